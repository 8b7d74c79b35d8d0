/**
 * /health end to end over signed HTTP, against real PostgreSQL, Redis and this host,
 * with the reply read back from the fake Slack Web API.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { commandBody, postSigned } from '../harness/slack-client.ts';
import { messageText, SECRET, startTestBot, type TestBot } from '../helpers/bot.ts';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('/health over HTTP', () => {
  let redis: RedisServer;
  let pgUrl: string;
  let t: TestBot;

  before(async () => {
    redis = await startRedis();
    pgUrl = await (await sharedPostgres()).createDatabase('mitong_devops_health');
    t = await startTestBot({ targets: { postgres: { main: { url: pgUrl } }, redis: { cache: { url: redis.url } } }, health: { timeout: '2s' } });
  });
  after(async () => {
    await t?.close();
    await redis?.stop();
  });

  test('a signed /health is acked within 3 s and the report carries real figures', async () => {
    await redis.cli('CONFIG', 'SET', 'maxmemory', '123456789');
    await redis.cli('SET', 'k1', 'v');
    const { ack, reply } = await t.run('/health');
    assert.equal(ack.status, 200);
    assert.ok(ack.ms < 3000, `ack took ${ack.ms} ms`);
    assert.equal(reply.method, 'chat.postMessage');
    assert.equal(reply.args.channel, 'C0OPS');
    const text = messageText(reply);

    // Redis: the maxmemory we set, as Redis itself prints it.
    const maxHuman = /maxmemory_human:(\S+)/.exec(await redis.cli('INFO', 'memory'))![1];
    assert.match(text, new RegExp(`redis cache\\*: [^\\n]*maxmemory ${esc(maxHuman)}`));
    assert.match(text, /redis cache\*: [^\n]*1 key, master/);

    // PostgreSQL: the server's version and max_connections.
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    const { rows } = await client.query("select current_setting('server_version') v, current_setting('max_connections') m");
    await client.end();
    assert.match(text, new RegExp(`postgres main\\*: [^\\n]*v${esc(rows[0].v)}, \\d+/${rows[0].m} connections`));

    // Host: the root mount's Use% exactly as df -h prints it.
    const df = execFileSync('df', ['-hP', '/'], { encoding: 'utf8' }).trim().split('\n')[1].split(/\s+/);
    assert.match(text, new RegExp(`host local disk ${esc(df[5])}\\*: ${esc(df[4])} used \\(${esc(df[2])} of ${esc(df[1])}`));
    assert.match(text, /host local memory\*: [\d.]+% used/);
    assert.match(text, /host local load\*: [\d.]+ on \d+ cores/);
    assert.match(text, /^\*Health\*/);
  });

  test('bad signature and stale timestamp get 401 and run nothing', async () => {
    const before = t.fake.calls.length;
    const body = commandBody({ command: '/health', user_id: 'U0X', channel_id: 'C0OPS', response_url: t.fake.responseUrl('x') });
    const forged = await postSigned(`${t.url}/slack/events`, SECRET, body, { signature: 'v0=' + '0'.repeat(64) });
    assert.equal(forged.status, 401);
    const stale = await postSigned(`${t.url}/slack/events`, SECRET, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    const wrongSecret = await postSigned(`${t.url}/slack/events`, 'not-the-secret', body);
    assert.equal(wrongSecret.status, 401);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.fake.calls.length, before, 'no Web API call was made');
    const audit = await t.bot.store.query<{ n: number }>("select count(*)::int n from audit_events where actor = 'U0X'");
    assert.equal(audit[0].n, 0, 'nothing was audited, because nothing ran');
  });

  test('Redis stopped: ❌ with the error, bot keeps serving, green again once Redis is back', async () => {
    await redis.stop();
    try {
      const { reply } = await t.run('/health');
      const text = messageText(reply);
      assert.match(text, /❌ \*redis cache\*: [^\n]*ECONNREFUSED/);
      assert.match(text, /✅ \*postgres main\*/);
      const healthz = await fetch(`${t.url}/healthz`);
      assert.equal(healthz.status, 200);
    } finally {
      await redis.start();
    }
    const { reply } = await t.run('/health', 'redis');
    assert.match(messageText(reply), /✅ \*redis cache\*/);
  });

  test('/health postgres gives detail for one kind only', async () => {
    const { reply } = await t.run('/health', 'postgres');
    const text = messageText(reply);
    assert.match(text, /PostgreSQL main \(127\.0\.0\.1:\d+\/mitong_devops_health\)/);
    assert.match(text, /connections: \d+ of max_connections \d+/);
    assert.match(text, /database mitong_devops_health: [\d.]+ [kMG]B/);
    assert.doesNotMatch(text, /redis/);
  });

  test('a long transaction shows as the longest transaction', async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query('select txid_current()');
      const { rows } = await client.query('select pg_backend_pid() pid');
      await new Promise((r) => setTimeout(r, 1100));
      const { reply } = await t.run('/health', 'postgres');
      assert.match(messageText(reply), new RegExp(`longest transaction: [\\d.]+ sec \\(pid ${rows[0].pid}\\)`));
    } finally {
      await client.query('rollback');
      await client.end();
    }
  });

  test('an unknown kind gets usage and a did-you-mean, only for the caller', async () => {
    const { reply } = await t.run('/health', 'redsi');
    assert.equal(reply.method, 'response_url');
    assert.equal(reply.args.response_type, 'ephemeral');
    const text = messageText(reply);
    assert.match(text, /Unknown kind "redsi"/);
    assert.match(text, /Did you mean redis\?/);
    assert.match(text, /\/health postgres\|redis\|host\|containers/);
  });

  test('/readyz reflects the state store and /metrics counts commands by outcome', async () => {
    assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /opsbot_commands_total\{command="health",outcome="(ok|warn|crit)"\} \d+/);
    assert.match(metrics, /opsbot_commands_total\{command="health",outcome="invalid"\} 1/);
    assert.match(metrics, /opsbot_command_duration_seconds_count\{command="health"\} \d+/);
  });

  test('every invocation is audited', async () => {
    await t.bot.idle(); // read-only commands' rows are written in batches
    const rows = await t.bot.store.query<{ command: string; outcome: string; args: string }>("select command, outcome, args from audit_events where actor = 'U0ONCALL' order by id");
    assert.ok(rows.length >= 5);
    assert.ok(rows.some((r) => r.outcome === 'invalid' && r.args === 'redsi'));
    assert.ok(rows.every((r) => r.command === 'health'));
  });

  test('a 429 from Slack is waited out and the report still arrives', async () => {
    t.fake.rateLimit('chat.postMessage', 1);
    const started = Date.now();
    const before = t.fake.calls.length;
    await t.command('/health', 'host');
    const delivered = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.status === 200, 20_000);
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.match(messageText(delivered), /host local disk/);
    assert.ok(t.fake.calls.some((c) => c.method === 'chat.postMessage' && c.status === 429));
  });
});
