/** The bot's own database dies: it says so on /readyz but keeps answering /health. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startPostgres, type PgServer } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';

let statePg: PgServer;
let redis: RedisServer;
let t: TestBot;

before(async () => {
  statePg = await startPostgres();
  redis = await startRedis();
  const stateDb = await statePg.createDatabase('opsbot_state');
  t = await startTestBot({ targets: { local: false, redis: { cache: { url: redis.url } } } }, { env: { DATABASE_URL: stateDb } });
});
after(async () => {
  await t?.close();
  await redis?.stop();
  await statePg?.stop();
});

test('state store down: /readyz is 503, /healthz 200, and /health still reports', async () => {
  assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
  await statePg.stop();
  const ready = await fetch(`${t.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /state store unavailable/);
  assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  const { reply } = await t.run('/health');
  assert.match(messageText(reply), /✅ \*redis cache\*/);
});
