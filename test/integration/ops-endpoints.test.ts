/**
 * The operational side as an operator meets it: /metrics protected by a token or moved to a
 * listener of its own, and start-up that says what it is doing or why it failed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startFakeSlack } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const HOST_ONLY = new URL('../fixtures/host-only.yaml', import.meta.url).pathname;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const get = async (url: string, token?: string) => {
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, body: await res.text() };
};

describe('/metrics', () => {
  const bots: TestBot[] = [];
  after(async () => {
    await Promise.all(bots.map((b) => b.close()));
  });
  const start = async (config: Record<string, unknown>) => {
    const b = await startTestBot({ targets: { local: false }, ...config });
    bots.push(b);
    return b;
  };

  test('without a metrics section it is served beside /slack/events, as before', async () => {
    const t = await start({});
    const res = await get(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.body, /^# HELP opsbot_/m);
    assert.equal(t.bot.metricsPort, undefined);
  });

  test('with metrics.token, a request without the token gets 401 and one with it the figures', async () => {
    const t = await start({ metrics: { token: METRICS_TOKEN } });
    const none = await get(`${t.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.doesNotMatch(none.body, /opsbot_/);
    assert.equal((await get(`${t.url}/metrics`, 'metrics-token-0123456789abcdeX')).status, 401);
    assert.equal((await get(`${t.url}/metrics`, METRICS_TOKEN.slice(0, -1))).status, 401);
    const basic = await fetch(`${t.url}/metrics`, { headers: { Authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` } });
    assert.equal(basic.status, 401);
    const ok = await get(`${t.url}/metrics`, METRICS_TOKEN);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^# HELP opsbot_/m);
    // The probes a load balancer uses stay open.
    assert.equal((await get(`${t.url}/healthz`)).status, 200);
    assert.equal((await get(`${t.url}/readyz`)).status, 200);
  });

  test('with metrics.listen, it moves to its own listener and leaves the Slack port', async () => {
    const t = await start({ metrics: { listen: '127.0.0.1:0', token: METRICS_TOKEN } });
    assert.ok(t.bot.metricsPort && t.bot.metricsPort !== t.bot.port, `metricsPort ${t.bot.metricsPort}`);
    const own = `http://127.0.0.1:${t.bot.metricsPort}`;
    assert.equal((await get(`${t.url}/metrics`, METRICS_TOKEN)).status, 404);
    assert.equal((await get(`${own}/metrics`)).status, 401);
    const ok = await get(`${own}/metrics`, METRICS_TOKEN);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^# HELP opsbot_/m);
    assert.equal((await get(`${own}/slack/events`)).status, 404);
    assert.equal((await get(`${t.url}/healthz`)).status, 200);
  });

  test('metrics.listen without a token serves it there to anyone who can reach that address', async () => {
    const t = await start({ metrics: { listen: '127.0.0.1:0' } });
    const res = await get(`http://127.0.0.1:${t.bot.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    const closed = t.bot.metricsPort;
    await t.close();
    bots.splice(bots.indexOf(t), 1);
    await assert.rejects(fetch(`http://127.0.0.1:${closed}/metrics`), 'the metrics listener closes with the bot');
  });
});

function run(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('start-up', () => {
  test('HTTP mode with an unreachable Slack API names auth.test, the URL and the cause', { timeout: 150_000 }, async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/api/`;
    const res = await run(['start'], {
      SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: url, PORT: '0', HOST: '127.0.0.1',
      OPSBOT_CONFIG: HOST_ONLY, DATABASE_URL: await (await sharedPostgres()).createDatabase(), LOG_LEVEL: 'silent',
    });
    assert.notEqual(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`^opsbot: auth\\.test at ${url.replace(/\./g, '\\.')} failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(check SLACK_API_URL / network\\)$`, 'm'));
    assert.doesNotMatch(res.stderr, /^opsbot: .*fetch failed$/m);
  });

  test('HTTP mode with a token Slack refuses says so, and what to check', { timeout: 150_000 }, async () => {
    const fake = await startFakeSlack({ token: 'xoxb-the-right-one' });
    try {
      const res = await run(['start'], {
        SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_SIGNING_SECRET: 'secret', SLACK_API_URL: fake.url, PORT: '0', HOST: '127.0.0.1',
        OPSBOT_CONFIG: HOST_ONLY, DATABASE_URL: await (await sharedPostgres()).createDatabase(), LOG_LEVEL: 'silent',
      });
      assert.notEqual(res.code, 0, res.stderr);
      assert.match(res.stderr, new RegExp(`^opsbot: auth\\.test at ${fake.url.replace(/\./g, '\\.')} failed: invalid_auth \\(check SLACK_BOT_TOKEN\\)$`, 'm'));
    } finally {
      await fake.stop();
    }
  });

  test('the console with no input says what it is on stderr, and stdout stays empty', { timeout: 150_000 }, async () => {
    const data = mkdtempSync(join(tmpdir(), 'opsbot-data-'));
    const res = await run(['start'], { OPSBOT_CONFIG: HOST_ONLY, OPSBOT_DATA_DIR: data, SLACK_SIGNING_SECRET: 'only-this' });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, new RegExp(`^opsbot console \\(config: ${HOST_ONLY}, state: embedded PGlite in ${data}\\)$`, 'm'));
    assert.match(res.stderr, /^Console mode: only SLACK_SIGNING_SECRET is set; Slack needs SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET \(HTTP\) or with SLACK_APP_TOKEN \(Socket Mode\)\.$/m);
    assert.match(res.stderr, /one slash command per line from standard input/);
    assert.match(res.stderr, /^opsbot console: end of input, no slash commands were read\.$/m);
  });

  test('the console from a pipe keeps stdout for the replies', { timeout: 150_000 }, async () => {
    const res = await run(['start'], { OPSBOT_CONFIG: HOST_ONLY, DATABASE_URL: await (await sharedPostgres()).createDatabase() }, '/ops help\n');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /^Console mode: no Slack variables are set;/m);
    assert.match(res.stderr, /state: PostgreSQL \(DATABASE_URL\)/);
    assert.doesNotMatch(res.stdout, /Console mode|opsbot console|end of input/);
    assert.match(res.stdout, /\/health/);
    assert.doesNotMatch(res.stderr, /no slash commands were read/);
  });
});
