/** A target that accepts TCP but never answers shows "timeout" within its limit; others are unaffected. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';

let tarpit: Tarpit;
let redis: RedisServer;
let t: TestBot;

before(async () => {
  tarpit = await startTarpit();
  redis = await startRedis();
  const pgUrl = (await sharedPostgres()).url;
  t = await startTestBot({
    health: { timeout: '5s' },
    targets: {
      postgres: { main: { url: pgUrl }, hung: { url: tarpit.url('postgres'), timeout: '1s' } },
      redis: { cache: { url: redis.url }, hung: { url: tarpit.url('redis'), timeout: '1500ms' } },
    },
  });
});
after(async () => {
  await t?.close();
  await tarpit?.stop();
  await redis?.stop();
});

test('hung targets time out at their own limit and never hold the report', async () => {
  const started = Date.now();
  const { ack, reply } = await t.run('/health');
  const elapsed = Date.now() - started;
  assert.equal(ack.status, 200);
  assert.ok(ack.ms < 1000, `ack took ${ack.ms} ms although targets hang`);
  const text = messageText(reply);
  assert.match(text, /❌ \*postgres hung\*: timeout after 1 s/);
  assert.match(text, /❌ \*redis hung\*: timeout after 1\.5 s/);
  assert.match(text, /✅ \*postgres main\*/);
  assert.match(text, /✅ \*redis cache\*/);
  assert.ok(elapsed >= 1400 && elapsed < 3000, `report came after ${elapsed} ms; the slowest limit is 1.5 s`);
});

test('a second run after a timeout is bounded the same way (no stuck connection)', async () => {
  const started = Date.now();
  const { reply } = await t.run('/health', 'postgres');
  const elapsed = Date.now() - started;
  assert.match(messageText(reply), /❌ \*postgres hung\*: timeout after 1 s/);
  assert.ok(elapsed < 2500, `took ${elapsed} ms`);
});
