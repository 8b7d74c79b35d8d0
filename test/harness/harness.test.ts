// Self-tests for the harness: each helper must behave like the real thing it stands for,
// otherwise integration tests built on it prove nothing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { freePort } from './ports.ts';
import { sharedPostgres, stopSharedPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';
import { startTarpit } from './tarpit.ts';
import { startFakeSlack } from './fake-slack.ts';
import { actionBody, blockActionPayload, commandBody, postSigned, sign, slashCommand } from './slack-client.ts';

after(() => stopSharedPostgres());

async function query(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test('postgres: starts, answers select 1, creates databases, stops cleanly', async () => {
  const server = await sharedPostgres();
  assert.equal(await sharedPostgres(), server, 'memoised per process');
  assert.match(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);

  const randomDb = await server.createDatabase();
  const [{ name }] = await query(randomDb, 'select current_database() as name');
  assert.match(name, /^opsbot_test_/);
  assert.deepEqual(await query(randomDb, 'select count(*)::int as n from pg_tables where schemaname = $$public$$'), [{ n: 0 }]);

  // A name that only works as a quoted identifier.
  const odd = await server.createDatabase('Odd "name"-1');
  assert.deepEqual(await query(odd, 'select current_database() as name'), [{ name: 'Odd "name"-1' }]);

  if (!process.env.OPSBOT_TEST_PG_URL) {
    await stopSharedPostgres();
    assert.equal(existsSync(server.dir), false, 'temp dir removed');
    await assert.rejects(query(server.url, 'select 1'));
  }
});

test('redis: stop() refuses connections, start() comes back on the same port', async () => {
  const redis = await startRedis();
  try {
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}/0`);
    assert.equal(await redis.cli('PING'), 'PONG');
    assert.equal(await redis.cli('SET', 'k', 'v'), 'OK');

    await redis.stop();
    await assert.rejects(redis.cli('PING'), /Connection refused/);

    await redis.start();
    assert.equal(await redis.cli('PING'), 'PONG');
    // --save '' and no AOF: a restart loses everything, like a fresh cache.
    assert.equal(await redis.cli('EXISTS', 'k'), '0');
  } finally {
    await redis.stop();
  }
});

test('tarpit: accepts connections but never sends a byte', async () => {
  const tarpit = await startTarpit();
  assert.equal(tarpit.url('redis'), `redis://127.0.0.1:${tarpit.port}`);
  const socket = net.connect(tarpit.port, '127.0.0.1');
  let received = 0;
  socket.on('data', (chunk) => (received += chunk.length));
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('PING\r\n');
  await sleep(300);
  assert.equal(received, 0);
  assert.equal(socket.destroyed, false);

  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  await tarpit.stop();
  await closed; // stop() hangs up on connected clients
});

test('fake Slack: WebClient calls are recorded, messages stored and updated', async () => {
  const fake = await startFakeSlack({
    token: 'xoxb-test',
    usergroups: { S0ONCALL: ['U1', 'U2'] },
    users: { U1: { name: 'alice', tz: 'Asia/Shanghai', is_admin: true } },
  });
  try {
    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*hello*' } }];
    const posted = await client.chat.postMessage({ channel: 'C0OPS', text: 'hello', blocks });
    assert.equal(posted.ok, true);
    assert.match(posted.ts!, /^\d{10}\.\d{6}$/);

    const call = await fake.waitFor((c) => c.method === 'chat.postMessage');
    assert.deepEqual(call.args.blocks, blocks, 'blocks arrive as a JSON string and are parsed');
    assert.equal(call.status, 200);

    const second = await client.chat.postMessage({ channel: 'C0OPS', text: 'again' });
    assert.ok(Number(second.ts) > Number(posted.ts), 'ts increases');

    await client.chat.update({ channel: 'C0OPS', ts: posted.ts!, text: 'updated' });
    const stored = fake.messages('C0OPS').find((m) => m.ts === posted.ts);
    assert.equal(stored?.text, 'updated');
    assert.deepEqual(stored?.blocks, blocks, 'fields left out of the update are kept');
    assert.equal(fake.messages('C0OTHER').length, 0);

    await assert.rejects(client.chat.update({ channel: 'C0OPS', ts: '1.2', text: 'x' }), (err: WebAPIPlatformError) => {
      assert.equal(err.data.error, 'message_not_found');
      return true;
    });

    const group = await client.usergroups.users.list({ usergroup: 'S0ONCALL' });
    assert.deepEqual(group.users, ['U1', 'U2']);
    await assert.rejects(client.usergroups.users.list({ usergroup: 'S0NOPE' }), /no_such_subteam/);

    const info = await client.users.info({ user: 'U1' });
    assert.equal(info.user?.name, 'alice');
    assert.equal(info.user?.tz_offset, 8 * 3600);

    const auth = await client.auth.test();
    assert.equal(auth.user_id, 'U0BOT');

    const view = await client.views.open({ trigger_id: '1.2.3', view: { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] } });
    assert.match(view.view!.id!, /^V/);

    await assert.rejects(new WebClient('xoxb-wrong', { slackApiUrl: fake.url, retryConfig: { retries: 0 } }).auth.test(), /invalid_auth/);
    await assert.rejects(client.apiCall('no.such.method'), /unknown_method/);
  } finally {
    await fake.stop();
  }
});

test('fake Slack: rate limiting answers 429 with Retry-After', async () => {
  const fake = await startFakeSlack();
  try {
    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    fake.rateLimit('chat.postMessage', 1);
    await assert.rejects(client.chat.postMessage({ channel: 'C0OPS', text: 'x' }), (err: WebAPIRateLimitedError) => {
      assert.equal(err.code, ErrorCode.RateLimitedError);
      assert.equal(err.retryAfter, 1);
      return true;
    });
    assert.equal(fake.calls[0].status, 429);
    // Only `times` calls are limited.
    assert.equal((await client.chat.postMessage({ channel: 'C0OPS', text: 'x' })).ok, true);
  } finally {
    await fake.stop();
  }
});

test('fake Slack: response_url sink, file uploads, waitFor timeout', async () => {
  const fake = await startFakeSlack();
  try {
    const res = await fetch(fake.responseUrl('r1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'done', replace_original: true }),
    });
    assert.equal(res.status, 200);
    const call = await fake.waitFor((c) => c.method === 'response_url');
    assert.equal(call.target, 'r1');
    assert.deepEqual(call.args, { text: 'done', replace_original: true });

    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
    await client.filesUploadV2({ channel_id: 'C0OPS', filename: 'report.txt', title: 'Report', content: 'hello file' });
    const [upload] = fake.uploads();
    assert.equal(upload.completed, true);
    assert.equal(upload.title, 'Report');
    assert.equal(upload.bytes?.toString(), 'hello file');

    fake.reset();
    assert.equal(fake.calls.length, 0);
    await assert.rejects(fake.waitFor((c) => c.method === 'never', 50), /no matching call within 50 ms; recorded: \(none\)/);
  } finally {
    await fake.stop();
  }
});

test('sign() matches an independent HMAC and Slack\'s published example', () => {
  const body = 'command=%2Fops&text=health';
  const expected = 'v0=' + createHmac('sha256', 'secret').update(`v0:1700000000:${body}`).digest('hex');
  assert.equal(sign('secret', 1700000000, body), expected);

  // The worked example from Slack's "Verifying requests from Slack" docs.
  const slackBody =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
    '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  assert.equal(
    sign('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, slackBody),
    'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
  );
});

test('slack-client: sends exactly the headers and fields Slack sends', async () => {
  let seen: { headers: http.IncomingHttpHeaders; body: string } | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => {
      seen = { headers: req.headers, body };
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const r = await slashCommand(`http://127.0.0.1:${port}/`, 'shh', { command: '/ops', text: 'health now' });
    assert.equal(r.status, 200);
    assert.equal(seen!.headers['content-type'], 'application/x-www-form-urlencoded');
    const ts = Number(seen!.headers['x-slack-request-timestamp']);
    assert.equal(seen!.headers['x-slack-signature'], sign('shh', ts, seen!.body));
    const fields = Object.fromEntries(new URLSearchParams(seen!.body));
    assert.deepEqual(Object.keys(fields), [
      'token', 'team_id', 'team_domain', 'channel_id', 'channel_name', 'user_id', 'user_name',
      'command', 'text', 'api_app_id', 'is_enterprise_install', 'response_url', 'trigger_id',
    ]);
    assert.equal(fields.text, 'health now');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a real Bolt app accepts our signed commands and clicks, and talks to the fake', async () => {
  const fake = await startFakeSlack({ token: 'xoxb-test' });
  const secret = 'signing-secret';
  const app = new App({
    token: 'xoxb-test',
    signingSecret: secret,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    tokenVerificationEnabled: false,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
  });
  app.command('/ops', async ({ ack, command, respond, client }) => {
    await ack();
    await respond({ text: `got ${command.text}` });
    await client.chat.postMessage({ channel: command.channel_id, text: 'posted' });
  });
  app.action('approve', async ({ ack, action, respond }) => {
    await ack();
    await respond({ text: `approved ${'value' in action ? action.value : ''}` });
  });
  const port = await freePort();
  await app.start(port);
  const base = `http://127.0.0.1:${port}`;
  try {
    const ok = await slashCommand(base, secret, { command: '/ops', text: 'health', response_url: fake.responseUrl('cmd') });
    assert.equal(ok.status, 200);
    const responded = await fake.waitFor((c) => c.method === 'response_url' && c.target === 'cmd');
    assert.equal(responded.args.text, 'got health');
    await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.text === 'posted');

    const body = commandBody({ command: '/ops' });
    assert.equal((await postSigned(`${base}/slack/events`, secret, body, { signature: 'v0=bad' })).status, 401);
    const stale = Math.floor(Date.now() / 1000) - 600;
    assert.equal((await postSigned(`${base}/slack/events`, secret, body, { timestamp: stale })).status, 401);

    const payload = blockActionPayload({
      user: 'U0MANAGER',
      channel: 'C0OPS',
      messageTs: '1700000000.000200',
      actionId: 'approve',
      value: 'req-1',
      responseUrl: fake.responseUrl('click'),
    });
    const click = await postSigned(`${base}/slack/events`, secret, actionBody(payload));
    assert.equal(click.status, 200);
    const clicked = await fake.waitFor((c) => c.method === 'response_url' && c.target === 'click');
    assert.equal(clicked.args.text, 'approved req-1');
  } finally {
    await app.stop();
    await fake.stop();
  }
});
