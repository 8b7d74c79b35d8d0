/** With SLACK_APP_TOKEN set, the bot connects over Socket Mode (through SLACK_API_URL) and serves commands. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBot, type Bot } from '../../src/main.ts';
import { createLogger } from '../../src/core/log.ts';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { startFakeSocketMode, type FakeSocketMode } from '../harness/fake-socket-mode.ts';
import { freePort } from '../harness/ports.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { messageText, TOKEN } from '../helpers/bot.ts';
import { transportFromEnv } from '../../src/main.ts';

const APP_TOKEN = 'xapp-1-test';
let fake: FakeSlack;
let socket: FakeSocketMode;
let bot: Bot;
let port: number;

before(async () => {
  socket = await startFakeSocketMode();
  fake = await startFakeSlack({ token: TOKEN, appToken: APP_TOKEN, socketModeUrl: () => socket.url });
  port = await freePort();
  const env = {
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: fake.url,
    DATABASE_URL: await (await sharedPostgres()).createDatabase(),
    PORT: String(port),
    OPSBOT_CONFIG: new URL('../fixtures/host-only.yaml', import.meta.url).pathname,
  };
  const transport = transportFromEnv(env);
  assert.deepEqual(transport, { kind: 'socket' });
  bot = await startBot(env, transport!, createLogger('silent'));
  await socket.connected();
});
after(async () => {
  await bot?.close();
  await socket?.stop();
  await fake?.stop();
});

test('a slash command over Socket Mode is acked and answered', async () => {
  const { ms, ack } = await socket.send('slash_commands', {
    command: '/health', text: 'host', user_id: 'U0ONCALL', channel_id: 'C0OPS', response_url: fake.responseUrl('sm1'),
    team_id: 'T0TEST', api_app_id: 'A0OPSBOT', trigger_id: 't',
  });
  assert.ok(ms < 3000, `ack took ${ms} ms`);
  assert.ok(ack.envelope_id);
  const reply = await fake.waitFor((c) => c.method === 'chat.postMessage');
  assert.match(messageText(reply), /host local disk/);
  assert.ok(fake.calls.some((c) => c.method === 'apps.connections.open'));
});

test('health endpoints are served on PORT in Socket Mode too', async () => {
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
});
