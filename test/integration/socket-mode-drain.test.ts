/**
 * Draining in Socket Mode: the replica leaves its WebSocket at once (so Slack hands new events to
 * the other connection), answers /readyz 503 on PORT, and still finishes and posts the command it
 * had accepted.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SocketModeReceiver } from '@slack/bolt';
import { startBot, type Bot } from '../../src/main.ts';
import { createLogger } from '../../src/core/log.ts';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { startFakeSocketMode, type FakeSocketMode } from '../harness/fake-socket-mode.ts';
import { freePort } from '../harness/ports.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, TOKEN } from '../helpers/bot.ts';
import { scaled, scaledDuration, until } from '../helpers/wait.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const APP_TOKEN = 'xapp-1-test';
let fake: FakeSlack;
let socket: FakeSocketMode;
let tarpit: Tarpit;
let bot: Bot;
let port: number;

before(async () => {
  socket = await startFakeSocketMode();
  fake = await startFakeSlack({ token: TOKEN, appToken: APP_TOKEN, socketModeUrl: () => socket.url });
  tarpit = await startTarpit();
  port = await freePort();
  const config = join(mkdtempSync(join(tmpdir(), 'opsbot-sm-drain-')), 'opsbot.yaml');
  // Redis that never answers: /health takes its whole timeout, so it is in flight at shutdown.
  writeFileSync(config, stringify({
    targets: { local: false, redis: { cache: { url: tarpit.url('redis') } } },
    health: { timeout: scaledDuration(3000) },
    storm: { share_window: '0s', health_cache: '0s' },
  }));
  bot = await startBot({
    SLACK_BOT_TOKEN: TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: fake.url,
    DATABASE_URL: await (await sharedPostgres()).createDatabase(), PORT: String(port), OPSBOT_CONFIG: config,
  }, { kind: 'socket' }, createLogger('silent'));
  await socket.connected();
});
after(async () => {
  await bot?.close();
  await socket?.stop();
  await fake?.stop();
  await tarpit?.stop();
});

test('on close, the socket is left at once, /readyz is 503, and the accepted command still posts its reply', { timeout: scaled(60_000) }, async () => {
  const client = (bot.app as unknown as { receiver: SocketModeReceiver }).receiver.client;
  const left = new Promise<number>((resolve) => client.once('disconnected', () => resolve(Date.now())));
  await socket.send('slash_commands', {
    command: '/health', text: '', user_id: 'U0ONCALL', channel_id: 'C0OPS', response_url: fake.responseUrl('sm'),
    team_id: 'T0TEST', api_app_id: 'A0OPSBOT', trigger_id: 't',
  });
  const started = Date.now();
  const closing = bot.close();
  const readyz = await until('/readyz while draining', scaled(5000), () => fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => ({ status: r.status, body: await r.text() })), (r) => r.status === 503);
  assert.match(readyz.body, /draining/);
  const leftAt = await left;
  const reply = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0OPS', scaled(30_000));
  assert.match(messageText(reply), /cache/);
  assert.ok(leftAt < reply.at, 'the socket was left before the in-flight command finished');
  assert.ok(leftAt - started < scaled(2000), `left the socket ${leftAt - started} ms after close()`);
  await closing;
  assert.ok(fake.calls.filter((c) => c.method === 'apps.connections.open').length === 1, 'it did not reconnect');
});
