/** The console as a new user meets it: `printf '/health\n' | npm start` on defaults, no Slack variables. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { freePort } from '../harness/ports.ts';
import { sharedPostgres, stopSharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { scaled } from '../helpers/wait.ts';

const execFileP = promisify(execFile);
const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// Starting the console compiles TypeScript and opens embedded PostgreSQL: a hang guard, not a goal.
const CONSOLE_LIMIT = scaled(180_000);

/** The status the default thresholds give `value` (warn at `warn`, crit at `crit`, both inclusive). */
const statusFor = (value: number, warn: number, crit: number) => (value >= crit ? '❌' : value >= warn ? '⚠️' : '✅');

/** "1.05M" → bytes (binary units, as Redis's *_human fields print them). */
function bytesOf(shown: string): number {
  const m = /^([\d.]+)([KMGT]?)B?$/.exec(shown);
  assert.ok(m, `not a size: ${shown}`);
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] || ' ');
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Use% of / as df -P prints it (1K blocks), run here with execFile and parsed here. */
async function rootUsePercent(): Promise<number> {
  const { stdout } = await execFileP('df', ['-P', '-k', '/'], { env: { ...process.env, LC_ALL: 'C' } });
  const fields = stdout.trim().split('\n')[1].split(/\s+/);
  return Number(fields[4].replace('%', ''));
}

/** (MemTotal - MemAvailable) / MemTotal, in %, from /proc/meminfo read here. */
function memoryUsedPercent(): number {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1]);
  return ((kb('MemTotal') - kb('MemAvailable')) / kb('MemTotal')) * 100;
}

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
  await stopSharedPostgres();
});

test('printf "/health\\n" | npm start prints a health report and exits 0', { timeout: CONSOLE_LIMIT }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'opsbot-data-'));
  // The defaults point at PostgreSQL and Redis on their standard local ports.
  const [pgUp, redisUp] = [await listening(5432), await listening(6379)];
  // Memory moves with every other test running meanwhile (each starts a bot): sampled all along
  // the console's run, the figure it shows must lie within what was seen.
  const memSeen = [memoryUsedPercent()];
  const sampler = setInterval(() => memSeen.push(memoryUsedPercent()), 20);
  const diskBefore = await rootUsePercent();
  const res = await run('npm', ['start', '--silent'], '/health\n', cleanEnv({ OPSBOT_DATA_DIR: data })).finally(() => clearInterval(sampler));
  const diskAfter = await rootUsePercent();
  assert.equal(res.code, 0, res.stderr);
  const out = res.stdout;

  // The local host: the figures of this machine, each with the status its threshold gives.
  const disk = /^(✅|⚠️|❌) host local disk \/: (\d+)% used \(/m.exec(out);
  assert.ok(disk, out);
  const shownDisk = Number(disk[2]);
  assert.ok(shownDisk >= Math.min(diskBefore, diskAfter) - 1 && shownDisk <= Math.max(diskBefore, diskAfter) + 1, `disk / ${shownDisk}%, df -P says ${diskBefore}–${diskAfter}%`);
  assert.equal(disk[1], statusFor(shownDisk, 80, 90), disk[0]);
  const mem = /^(✅|⚠️|❌) host local memory: ([\d.]+)% used/m.exec(out);
  assert.ok(mem, out);
  const shownMem = Number(mem[2]);
  const [memLo, memHi] = [Math.min(...memSeen), Math.max(...memSeen)];
  assert.ok(shownMem >= memLo - 1 && shownMem <= memHi + 1, `memory ${shownMem}%, /proc/meminfo said ${memLo.toFixed(1)}–${memHi.toFixed(1)}% meanwhile`);
  assert.equal(mem[1], statusFor(shownMem, 85, 95), mem[0]);
  const load = /^(✅|⚠️|❌) host local load: ([\d.]+) on (\d+) cores \(([\d.]+) per core\)/m.exec(out);
  assert.ok(load, out);
  assert.equal(Number(load[3]), availableParallelism());
  assert.equal(load[1], statusFor(Number(load[4]), 1, 2), load[0]);
  const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  assert.ok(Math.abs(Number(load[2]) - load1) < 2 + load1 / 2, `load ${load[2]}, /proc/loadavg says ${load1}`);

  // PostgreSQL and Redis at the default addresses: ❌ with the reason when nothing listens there.
  if (!pgUp) assert.match(out, /^❌ postgres main: connect ECONNREFUSED 127\.0\.0\.1:5432$/m);
  else assert.match(out, /^(✅|⚠️|❌) postgres main: /m);
  if (!redisUp) assert.match(out, /^❌ redis cache: connect ECONNREFUSED 127\.0\.0\.1:6379$/m);
  else assert.match(out, /^(✅|⚠️|❌) redis cache: /m);

  // The headline agrees with the lines.
  const lines = [...out.matchAll(/^(✅|⚠️|❌) (?:host|postgres|redis) /gm)].map((m) => m[1]);
  assert.equal(lines.length, 5, out);
  const crit = lines.filter((x) => x === '❌').length;
  const warn = lines.filter((x) => x === '⚠️').length;
  if (crit) assert.match(out, new RegExp(`^Health {2}❌ Problems found \\(${crit} critical${warn ? `, ${warn} warnings?` : ''}\\)`, 'm'));
  else assert.match(out, /^Health {2}(✅|⚠️) /m);
});

test('the console drives the same app: personas, help, errors, scripted from a pipe', { timeout: CONSOLE_LIMIT }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-console-'));
  const config = join(dir, 'opsbot.yaml');
  // Real servers with known contents: 37 keys and a maxmemory in Redis, a fresh database.
  await redis.cli('flushall');
  await redis.cli('eval', "for i=1,37 do redis.call('set','cache:'..i,'v') end return 1", '0');
  await redis.cli('config', 'set', 'maxmemory', '100mb');
  const dbUrl = await (await sharedPostgres()).createDatabase();
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const { rows: [facts] } = await db.query<{ v: string; max: string; name: string }>(
    "select current_setting('server_version') as v, current_setting('max_connections') as max, current_database() as name");
  await db.end();
  const deadPort = await freePort();
  writeFileSync(config, stringify({
    roles: { operator: ['U0OPER'] },
    permissions: { health: ['operator'] },
    targets: {
      local: false,
      postgres: { main: { url: dbUrl } },
      redis: { cache: { url: redis.url }, down: { url: `redis://127.0.0.1:${deadPort}/0` } },
    },
  }));
  const script = ['/health', ':as U0OPER', '/health', '/ops help', '/helth', 'hello', ''].join('\n');
  const res = await run('npm', ['start', '--silent'], script, cleanEnv({ OPSBOT_DATA_DIR: join(dir, 'data'), OPSBOT_CONFIG: config }));
  assert.equal(res.code, 0, res.stderr);
  const out = res.stdout;
  assert.match(out, /⛔ \/health needs the role operator/);
  // Each line shows what the servers themselves report.
  const info = Object.fromEntries((await redis.cli('info')).split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':', 2)));
  assert.equal(info.maxmemory_human, '100.00M');
  // Statuses follow the figures shown, against the default thresholds (latency 200/1000 ms,
  // Redis memory 80/95%, evicted keys 1/10000, PostgreSQL connections 80/95%): on a busy machine
  // a slow answer is a fair ⚠️.
  const worst = (...s: string[]) => (s.includes('❌') ? '❌' : s.includes('⚠️') ? '⚠️' : '✅');
  const r = /^(✅|⚠️|❌) redis cache: ([\d.]+) ms, (\S+) of maxmemory (\S+) \(([\d.]+)%\), (\d+) evicted, (\d+) clients?, (\d+) keys?, (\w+)$/m.exec(out)?.slice(1);
  assert.ok(r, out);
  assert.deepEqual([r[3], r[5], r[7], r[8]], [info.maxmemory_human, '0', '37', info.role]);
  assert.match(r[2], /^[\d.]+[KMG]$/);
  assert.ok(Math.abs(bytesOf(r[2]) - Number(info.used_memory)) < 1024 * 1024, `used ${r[2]}, INFO says ${info.used_memory}`);
  assert.equal(r[0], worst(statusFor(Number(r[1]), 200, 1000), statusFor(Number(r[4]), 80, 95), statusFor(Number(r[5]), 1, 10_000)), r.join(' '));
  const p = new RegExp(`^(✅|⚠️|❌) postgres main: ([\\d.]+) ms, v${esc(facts.v)}, (\\d+)/${facts.max} connections, no open transaction, ${facts.name} [\\d.]+ [kMG]?B$`, 'm').exec(out)?.slice(1);
  assert.ok(p, `postgres line with v${facts.v}, max ${facts.max}, ${facts.name}:\n${out}`);
  assert.ok(Number(p[2]) >= 1, 'the check itself holds a connection');
  assert.equal(p[0], worst(statusFor(Number(p[1]), 200, 1000), statusFor((Number(p[2]) / Number(facts.max)) * 100, 80, 95)), p.join(' '));
  assert.match(out, new RegExp(`^❌ redis down: connect ECONNREFUSED 127\\.0\\.0\\.1:${deadPort}$`, 'm'));
  const warnings = [r[0], p[0]].filter((x) => x === '⚠️').length;
  const crits = 1 + [r[0], p[0]].filter((x) => x === '❌').length;
  assert.match(out, new RegExp(`^Health {2}❌ Problems found \\(${crits} critical${warnings ? `, ${warnings} warnings?` : ''}\\)`, 'm'));
  assert.match(out, /\/health: Daily health check/);
  assert.match(out, /Unknown command \/helth\. Did you mean \/health\?/);
  assert.match(out, /Not a command: "hello"/);
  // Denied first, then allowed: the persona switch took effect in order.
  assert.ok(out.indexOf('⛔') < out.indexOf(' redis cache: '));
});

test('a malformed config exits non-zero and lists every problem by path', { timeout: CONSOLE_LIMIT }, async () => {
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
