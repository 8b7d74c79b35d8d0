/**
 * /cache info and /cache keys against real Redis servers: §3.2's advice with ✅/⚠️ and the values
 * found, a server with CONFIG renamed away, exact and estimated counts, the same matches as the
 * server's own SCAN MATCH, sample keys with their TTL, and clear errors in both languages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { freePort } from '../harness/ports.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { messageText, startTestBot, TOKEN, type TestBot } from '../helpers/bot.ts';

let main: RedisServer;
let hardened: RedisServer;
let solo: RedisServer;
let t: TestBot;
let zh: TestBot;
let zhFake: FakeSlack;
let deadPort: number;

/** Runs a Lua loop on the server: quick to fill thousands of keys. */
const lua = (r: RedisServer, script: string, ...args: string[]) => r.cli('EVAL', script, '0', ...args);
const text = async (bot: TestBot, line: string, user?: string) => messageText((await bot.run('/cache', line, { user })).reply);
// Each reply is its own post: no pacing between a test's many questions.
const storm = { share_window: '0s', health_cache: '0s', post_interval: '0s' };
/** "1,234 keys match" → 1234. */
const counted = (s: string) => Number(/([\d,]+) keys? match/.exec(s)?.[1].replace(/,/g, '') ?? Number.NaN);

before(async () => {
  [main, hardened, solo] = await Promise.all([startRedis(), startRedis({ args: ['--rename-command', 'CONFIG', ''] }), startRedis()]);
  deadPort = await freePort();
  t = await startTestBot({
    storm,
    targets: { local: false, redis: { cache: { url: main.url }, hardened: { url: hardened.url }, gone: { url: `redis://127.0.0.1:${deadPort}/0`, timeout: '1s' } } },
  });
  // One target (the default), a scan budget too short for its keyspace, and Chinese.
  // Replies only the caller sees follow the caller's Slack language.
  zhFake = await startFakeSlack({ token: TOKEN, users: { U0ZH: { locale: 'zh-CN' } } });
  zh = await startTestBot({ storm, locale: 'zh-CN', targets: { local: false, redis: { cache: { url: solo.url } } }, cache: { batch: 10, scan_budget: '100ms' } }, { fake: zhFake });
});
after(async () => {
  await t?.close();
  await zh?.close();
  await zhFake?.stop();
  await Promise.all([main?.stop(), hardened?.stop(), solo?.stop()]);
});

describe('/cache info', () => {
  test('each §3.2 setting gets ⚠️ with the value found, then ✅ once it follows the manual', async () => {
    const before = await text(t, 'info cache');
    assert.match(before, /Redis cache \(127\.0\.0\.1:\d+\/0\)\*?\s+Redis 7[\d.]* \(master\), up /);
    assert.match(before, /⚠️ \*maxmemory\*: not set: Redis may take all of the host's memory \(manual: maxmemory 2gb\)/);
    assert.match(before, /⚠️ \*maxmemory-policy\*: noeviction \(manual: allkeys-lru\)/);
    // The harness runs Redis with save "" (no snapshots).
    assert.match(before, /⚠️ \*save\*: empty: RDB snapshots are off \(manual: save 900 1 300 10 60 10000\)/);
    for (const section of ['Memory', 'Keys', 'Lookups', 'Clients', 'Persistence']) assert.match(before, new RegExp(`\\*${section}\\*`));
    assert.match(before, /fragmentation ratio \(RSS \/ used\): [\d.]+/);
    assert.match(before, /RDB: last save \d{4}-\d\d-\d\d .* last background save ok/);
    assert.match(before, /AOF: off/);

    await main.cli('CONFIG', 'SET', 'maxmemory', '2gb');
    await main.cli('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    await main.cli('CONFIG', 'SET', 'save', '900 1 300 10 60 10000');
    await lua(main, "for i=1,50 do redis.call('SET','info:'..i,i,'EX',600) end redis.call('GET','info:1') redis.call('GET','nope') return 1");
    const after = await text(t, 'info cache');
    assert.match(after, /✅ \*maxmemory\*: 2 GB \(manual: maxmemory 2gb\)/);
    assert.match(after, /✅ \*maxmemory-policy\*: allkeys-lru/);
    assert.match(after, /✅ \*save\*: 900 1 300 10 60 10000/);
    // Redis fills in avg_ttl only once its expiry cycle has sampled the keys.
    assert.match(after, /db0: 50 keys, 50 with a TTL( \(average TTL \d+ min[^)]*\))?\n/);
    assert.match(after, /hits \d+, misses \d+: hit ratio [\d.]+%/);

    // Celery's queue in a Redis that evicts any key: the queue itself can go.
    await main.cli('RPUSH', 'celery', 't1', 't2', 't3');
    const evictable = await text(t, 'info cache');
    assert.match(evictable, /⚠️ \*celery\*: Celery's queue celery \(3 tasks\) is in this Redis: under allkeys-lru it can be evicted/);
    await main.cli('DEL', 'celery', ...Array.from({ length: 50 }, (_, i) => `info:${i + 1}`));
    await main.cli('CONFIG', 'SET', 'maxmemory', '0');
    await main.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  });

  test('a server without CONFIG: save is "not readable", the rest of the report stands', async () => {
    const s = await text(t, 'info hardened');
    assert.match(s, /⚠️ \*save\*: not readable: CONFIG is not allowed on this server \(ERR unknown command/);
    // maxmemory and the policy come from INFO, which needs no CONFIG.
    assert.match(s, /⚠️ \*maxmemory\*: not set/);
    assert.match(s, /⚠️ \*maxmemory-policy\*: noeviction/);
    assert.match(s, /used [\d.]+\w*, peak/);
  });

  test('several targets: one must be named; a typo gets "did you mean"; an unreachable one says why', async () => {
    assert.match(await text(t, 'info'), /Name a Redis target: cache, hardened, or gone\./);
    const typo = await text(t, 'info cahce');
    assert.match(typo, /No Redis target "cahce" is configured \(configured: cache, hardened, and gone\)\. Did you mean \/cache info cache\?/);
    assert.match(await text(t, 'info gone'), new RegExp(`cannot reach Redis gone at 127\\.0\\.0\\.1:${deadPort}/0: .*ECONNREFUSED`));
    assert.match(await text(t, `keys 'x*' --target gone`), /cannot reach Redis gone/);
  });
});

describe('/cache keys', () => {
  test('an exact count on a small keyspace, with sample keys, their type, TTL and size', async () => {
    await main.cli('-n', '2', 'EVAL', "for i=1,300 do redis.call('SET','sess:'..i,'v','EX',3600) end for i=1,20 do redis.call('HSET','user:'..i,'name','x') end return 1", '0');
    const s = await text(t, 'keys sess:* --target cache --db 2');
    assert.match(s, /300 keys match `sess:\*`\./);
    assert.match(s, /exact: all 320 keys of the database were scanned/);
    assert.match(s, /sess:\d+ {2}· {2}string {2}· {2}TTL (59|60) min[^·]*· {2}\d+ byte/);
    assert.equal((s.match(/sess:\d+ {2}·/g) ?? []).length, 10, 'ten samples');
    const users = await text(t, 'keys user:* --target cache --db 2');
    assert.match(users, /20 keys match/);
    assert.match(users, /user:\d+ {2}· {2}hash {2}· {2}no TTL/);
    assert.match(await text(t, 'keys user:7 --target cache --db 2'), /1 key matches `user:7`\./);
    assert.match(await text(t, 'keys nothing:* --target cache --db 2'), /0 keys match/);
  });

  test('matches exactly what the server\'s own SCAN MATCH matches, bytes and all', async () => {
    await lua(main, [
      "local keys = {'ka','kb','kc','kd','k]','k*','k?','kx1','k-','k\\255x','caf\\195\\169','k[a]','a\\\\b','k'}",
      "for _, k in ipairs(keys) do redis.call('SET', k, 1) end return #keys",
    ].join(' '));
    // In db 0 with the keys above; patterns with sets, ranges, escapes, negation, and single bytes.
    for (const pattern of ['k[a-c]', 'k[c-a]', 'k[^a-c]', 'k\\*', 'k?', 'k??', 'k[]]', 'k[\\]]', 'caf??', 'caf?', 'k*', '*x', 'k[-a]', 'a\\\\b', 'k\\[a\\]']) {
      const server = (await main.cli('--scan', '--pattern', pattern)).split('\n').filter(Boolean).length;
      const bot = counted(await text(t, `keys "${pattern.replace(/(["\\])/g, '\\$1')}" --target cache`));
      assert.equal(bot, server, `pattern ${pattern}`);
    }
  });

  test('--db picks another database; one that does not exist is a clear error', async () => {
    await main.cli('-n', '5', 'SET', 'other:1', 'x');
    assert.match(await text(t, 'keys other:* --target cache --db 5'), /Redis cache, db 5: keys by pattern\*?\s+1 key matches/);
    assert.match(await text(t, 'keys other:* --target cache'), /0 keys match/);
    assert.match(await text(t, 'keys x --target cache --db 99'), /Redis cache has no database 99 \(ERR DB index is out of range\)\./);
  });

  test('a malformed pattern is refused with the reason; /cache alone lists the usage', async () => {
    assert.match(await text(t, 'keys "cache:[1" --target cache'), /The pattern `cache:\[1` opens a \[set\] that it never closes/);
    assert.match(await text(t, 'keys "cache\\\\" --target cache'), /ends with a lone \\/);
    const usage = await text(t, '');
    for (const line of ['/cache info [target]', '/cache keys <pattern>', '/cache clear <pattern>', '/cache flush [target]']) assert.ok(usage.includes(line), line);
    assert.match(await text(t, 'flsuh'), /Unknown action "flsuh"\. Choose one of: info, keys, clear, flush\. Did you mean flush\?/);
  });
});

describe('/cache in zh-CN, with one target', () => {
  test('a count past the scan budget is an estimate, and says how it was made', async () => {
    await lua(solo, "for i=1,30000 do redis.call('SET','cache:'..i,i) end for i=1,10000 do redis.call('SET','other:'..i,i) end return 1");
    const s = await text(zh, 'keys cache:*');
    assert.match(s, /Redis cache 0 号库：按模式查看键\*?\s+约 [\d,]+ 个键匹配 `cache:\*`。/);
    assert.match(s, /估算值：在扫描时限 \d+毫秒 内扫描了 40,000 个键中的 [\d,]+ 个，其中 [\d,]+ 个匹配（[\d.]+%），按 DBSIZE 折算/);
    // 3 of 4 keys match: the estimate lands near 30,000.
    const estimate = Number(/约 ([\d,]+) 个键/.exec(s)![1].replace(/,/g, ''));
    assert.ok(estimate > 24_000 && estimate < 36_000, `estimate ${estimate}`);
  });

  test('info reads in Chinese, and the errors too', async () => {
    const info = await text(zh, 'info');
    assert.match(info, /⚠️ \*maxmemory\*：?.*未设置：Redis 可能占满主机内存（手册：maxmemory 2gb）/);
    assert.match(info, /\*内存使用\*/);
    assert.match(info, /\*持久化\*/);
    assert.match(await text(zh, 'keys "a[b"', 'U0ZH'), /模式 `a\[b` 中的 \[ 没有对应的 \]/);
    await solo.stop();
    assert.match(await text(zh, 'info', 'U0ZH'), /无法连接 Redis cache（127\.0\.0\.1:\d+\/0）：.*ECONNREFUSED/);
  });
});
