/** The console as a new user meets it: `printf '/health\n' | npm start` on defaults, no Slack variables. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startRedis, type RedisServer } from '../harness/redis.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The environment of a fresh shell: no Slack credentials, no config, no DATABASE_URL. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

test('printf "/health\\n" | npm start prints a health report and exits 0', { timeout: 90_000 }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'opsbot-data-'));
  const res = await run('npm', ['start', '--silent'], '/health\n', cleanEnv({ OPSBOT_DATA_DIR: data }));
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^Health {2}(✅|⚠️|❌)/m);
  assert.match(res.stdout, /host local disk \/: \d+% used/);
  assert.match(res.stdout, /postgres main: /);
  assert.match(res.stdout, /redis cache: /);
});

test('the console drives the same app: personas, help, errors, scripted from a pipe', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-console-'));
  const config = join(dir, 'opsbot.yaml');
  writeFileSync(config, stringify({
    roles: { operator: ['U0OPER'] },
    permissions: { health: ['operator'] },
    targets: { local: false, redis: { cache: { url: redis.url } } },
  }));
  const script = ['/health', ':as U0OPER', '/health', '/ops help', '/helth', 'hello', ''].join('\n');
  const res = await run('npm', ['start', '--silent'], script, cleanEnv({ OPSBOT_DATA_DIR: join(dir, 'data'), OPSBOT_CONFIG: config }));
  assert.equal(res.code, 0, res.stderr);
  const out = res.stdout;
  assert.match(out, /⛔ \/health needs the role operator/);
  assert.match(out, /✅ redis cache: [\d.]+ ms/);
  assert.match(out, /\/health: Daily health check/);
  assert.match(out, /Unknown command \/helth\. Did you mean \/health\?/);
  assert.match(out, /Not a command: "hello"/);
  // Denied first, then allowed: the persona switch took effect in order.
  assert.ok(out.indexOf('⛔') < out.indexOf('✅ redis cache'));
});

test('a malformed config exits non-zero and lists every problem by path', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-bad-'));
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, [
    'targets:',
    '  postgres:',
    '    main: { url: "not a url" }',
    'rate_limit: { requests_per_minute: -5 }',
    'permissions: { restart: [nobody] }',
    'health: { timeout: soon }',
    'colour: blue',
  ].join('\n'));
  const res = await run('npm', ['start', '--silent'], '/health\n', cleanEnv({ OPSBOT_CONFIG: config, OPSBOT_DATA_DIR: join(dir, 'data') }));
  assert.notEqual(res.code, 0);
  for (const path of ['targets.postgres.main.url', 'rate_limit.requests_per_minute', 'permissions.restart.0', 'health.timeout', '(root)']) {
    assert.ok(res.stderr.includes(`${path}: `), `stderr names ${path}:\n${res.stderr}`);
  }
  assert.match(res.stderr, /colour/);
  assert.equal(res.stdout.includes('Health'), false, 'nothing ran');
});
