/**
 * Capacity planning end to end in a real bot: a scheduled /health stores samples from real
 * targets (this machine's disks, a real PostgreSQL database, a real Redis) in the real state
 * store; synthetic series stored through the same store give /capacity's forecasts and
 * /health's warning, in English and in Chinese.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Sample } from '../../src/capacity/store.ts';
import { DAY_MS } from '../../src/capacity/fit.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';

const OPER = 'U0OPER';
const GB = 2 ** 30;
let redis: RedisServer;
let t: TestBot;
let database: string;

before(async () => {
  redis = await startRedis();
  const url = await (await sharedPostgres()).createDatabase('capacity_target');
  database = new URL(url).pathname.slice(1);
  t = await startTestBot({
    channels: { ops: 'C0OPS', zh: { id: 'C0ZH', locale: 'zh-CN' } },
    targets: { local: true, postgres: { main: { url } }, redis: { cache: { url: redis.url } } },
    roles: { operator: [OPER] },
    permissions: { schedule: ['operator'] },
    // New Year's midnight: never due during the test, run only by hand.
    schedules: { 'daily-health': { cron: '0 0 1 1 *', command: '/health', channel: 'C0OPS' } },
    capacity: { databases: { orders: { host: 'app1', mount: '/' } } },
  });
});
after(async () => {
  await t?.close();
  await redis?.stop();
});

type Row = { kind: string; target: string; item: string; value: number; total: number | null };
const rows = () => t.bot.store.query<Row>('select kind, target, item, value, total from capacity_samples order by kind, target, item');

/** `days` daily samples ending now, the last value `last`, growing `perDay`. */
async function series(days: number, sample: (value: number) => Sample, last: number, perDay: number) {
  const now = Date.now();
  for (let i = 0; i < days; i++) {
    const ago = days - 1 - i;
    await t.bot.capacity.keep(now - ago * DAY_MS - 60_000, [sample(last - ago * perDay)]);
  }
}

describe('capacity', () => {
  test('a scheduled /health stores real samples; a /health typed by a person does not', async () => {
    await t.run('/health', '', { user: OPER });
    assert.equal((await rows()).length, 0, 'nothing stored for a person');

    const from = t.fake.calls.length;
    await t.run('/schedule', 'run daily-health', { user: OPER });
    await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= from && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS' && /Health/.test(messageText(c)), 30_000);
    await t.bot.idle();
    const stored = await rows();
    const root = stored.find((r) => r.kind === 'disk' && r.target === 'local' && r.item === '/');
    assert.ok(root, JSON.stringify(stored));
    assert.ok(root.value > 0 && root.value < 100 && root.total! > 0, JSON.stringify(root));
    const db = stored.find((r) => r.kind === 'database');
    assert.deepEqual(db && [db.target, db.item], ['main', database]);
    assert.ok(db!.value > 1_000_000, 'a database is some megabytes');
    const mem = stored.find((r) => r.kind === 'redis');
    assert.deepEqual(mem && [mem.target, mem.item, mem.total], ['cache', '', null], 'no maxmemory: no total');
    assert.ok(mem!.value > 100_000);
    // One row per series for the run.
    assert.equal(new Set(stored.map((r) => `${r.kind}/${r.target}/${r.item}`)).size, stored.length);
  });

  test('/capacity: 1% a day from 80% reaches 90% in about 10 days; flat says no growth; too few says not enough data', async () => {
    await series(14, (value) => ({ kind: 'disk', target: 'app1', item: '/', value, total: 100 * GB }), 80, 1);
    await series(14, (value) => ({ kind: 'disk', target: 'app1', item: '/data', value, total: 100 * GB }), 50, 0);
    await series(3, (value) => ({ kind: 'disk', target: 'app2', item: '/', value, total: 100 * GB }), 60, 5);
    // 10 GB left below 90% of app1 /, at 1 GB a day.
    await series(14, (value) => ({ kind: 'database', target: 'orders', item: 'shop', value, total: null }), 20 * GB, GB);
    await series(14, (value) => ({ kind: 'redis', target: 'sessions', item: '', value: (value / 100) * GB, total: GB }), 83, 1);

    const { reply } = await t.run('/capacity', '', { user: OPER });
    const text = messageText(reply);
    assert.match(text, /app1 \/\*?:?\*? reaches 90% in about 10 days \(10–10 days\); now 80%, \+1% a day, ±0% from the fit \(14 samples over 13 days\)/);
    assert.match(text, /app1 \/data\*?:?\*? no growth/);
    assert.match(text, /app2 \/\*?:?\*? not enough data: 3 samples over 2 days/);
    assert.match(text, /orders database shop\*?:?\*? reaches 90% of app1 \/ in about 10 days/);
    assert.match(text, /sessions Redis memory\*?:?\*? reaches 95% in about 12 days/);
    // The real samples from one scheduled run: one sample is not a trend.
    assert.match(text, /local \/\*?:?\*? not enough data: 1 sample over less than a day/);
    assert.match(text, /main database .*not enough data/);
    assert.match(text, /3 forecasts reach their critical threshold within 14 days/);
  });

  test('/health warns about a forecast under 14 days, and only in its own kind', async () => {
    const { reply } = await t.run('/health', '', { user: OPER });
    const text = messageText(reply);
    assert.match(text, /Capacity: app1 \/\*?:?\*? reaches 90% in about 10 days \(10–10 days\) \(see \/capacity\)/);
    assert.match(text, /Capacity: sessions Redis memory\*?:?\*? reaches 95% in about 12 days/);
    assert.doesNotMatch(text, /Capacity: app1 \/data/);
    assert.doesNotMatch(text, /Capacity: app2/);
    const host = messageText((await t.run('/health', 'host', { user: OPER })).reply);
    assert.match(host, /Capacity: app1 \//);
    assert.doesNotMatch(host, /Capacity: sessions/);
  });

  test('zh-CN: the forecasts and the warning in Chinese', async () => {
    const cap = messageText((await t.run('/capacity', '', { user: OPER, channel: 'C0ZH' })).reply);
    assert.match(cap, /容量规划/);
    assert.match(cap, /app1 \/\*?[:：]?\*? ?约 10 天后（10–10 天）达到 90%；当前 80%，每天 \+1%/);
    assert.match(cap, /app1 \/data\*?[:：]?\*? ?没有增长/);
    assert.match(cap, /app2 \/\*?[:：]?\*? ?数据不足：2 天内仅 3 个采样/);
    assert.match(cap, /orders 数据库 shop\*?[:：]?\*? ?约 10 天后（.+）达到 app1 \/ 的 90%/);
    const health = messageText((await t.run('/health', '', { user: OPER, channel: 'C0ZH' })).reply);
    assert.match(health, /容量：app1 \/\*?[:：]?\*? ?约 10 天后（10–10 天）达到 90%（见 \/capacity）/);
  });
});
