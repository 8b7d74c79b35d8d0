/**
 * /cache clear and /cache flush through approval, against a real Redis: exactly the matching
 * unprotected keys go, with progress on the card; Stop leaves a count that adds up; protected keys
 * need --include-protected and two approvers; FLUSHDB's plan names what Celery would lose, needs
 * two approvers, and is refused when the queue grew past what was approved.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { scaled, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const MGR1 = 'U0MGR1';
const MGR2 = 'U0MGR2';
const TIMEOUT = scaled(120_000);

let redis: RedisServer;
let t: TestBot;

/** Keys matching a pattern, counted by the server itself. */
const count = async (pattern: string, db = 0) => Number(await redis.cli('-n', String(db), 'EVAL', COUNT_SCRIPT, '0', pattern));
const COUNT_SCRIPT = "local n, c = 0, '0' repeat local r = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000) c = r[1] n = n + #r[2] until c == '0' return n";
const lua = (script: string, ...args: string[]) => redis.cli('EVAL', script, '0', ...args);

/** 20,000 cache entries (half with a TTL, two of them big), protected look-alikes, and the app's other keys. */
async function fill(): Promise<void> {
  await lua("for i=1,20000 do if i % 2 == 0 then redis.call('SET','cache:'..i,i,'EX',3600) else redis.call('SET','cache:'..i,i) end end return 1");
  await lua("for i=1,5000 do redis.call('HSET','cache:big:hash','f'..i,i) redis.call('RPUSH','cache:big:list',i) end return 1");
  await lua("for i=1,5 do redis.call('SET','cache:keep:'..i,i) end for i=1,500 do redis.call('SET','session:'..i,i) end return 1");
}

before(async () => {
  redis = await startRedis();
  await redis.cli('RPUSH', 'celery', ...Array.from({ length: 7 }, (_, i) => `task${i}`));
  await redis.cli('SADD', '_kombu.binding.celery', 'celery');
  await redis.cli('HSET', 'unacked', 'tag1', 'task');
  await redis.cli('ZADD', 'unacked_index', '1', 'tag1');
  t = await startTestBot({
    targets: { local: false, redis: { cache: { url: redis.url } } },
    roles: { operator: [OPER], approver: [MGR1, MGR2] },
    permissions: { cache: ['operator'] },
    // Slow enough to watch: about a hundred batches, 40 ms apart.
    cache: { protected: ['celery', '_kombu.binding.*', 'unacked*', 'cache:keep:*'], batch: 200, pause: '40ms' },
  });
});
after(async () => {
  await t?.close();
  await redis?.stop();
});

/** Sends a destructive /cache line and returns its approval card as first posted. */
async function request(line: string): Promise<{ card: FakeSlackCall; ts: string; id: string; text: string }> {
  const before = t.fake.calls.length;
  const { ack } = await t.run('/cache', line, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && !!findButton(c, 'approval.approve'));
  return { card, ts: card.result!.ts as string, id: findButton(card, 'approval.approve')!.value, text: messageText(card) };
}

const approve = (ts: string, id: string, user: string) => t.click({ user, channel: 'C0OPS', ts, actionId: 'approval.approve', value: id });
const latest = (ts: string) => t.fake.messages().find((m) => m.ts === ts) as Record<string, unknown>;

describe('/cache clear', () => {
  test('deletes exactly the matching unprotected keys after approval, with progress, and reports the count', { timeout: TIMEOUT }, async () => {
    await fill();
    const { ts, id, text } = await request('clear cache:*');
    assert.match(text, /delete 20,002 keys matching `cache:\*` in db 0 of Redis cache \(127\.0\.0\.1:\d+\)/);
    assert.match(text, /SCAN MATCH `cache:\*` COUNT 200, UNLINK each batch \(pipelined\), a 40 ms pause between batches/);
    assert.match(text, /5 matching keys are protected and stay \(cache:keep:\d/);
    assert.match(text, /exact: all 20,\d{3} keys of the database were scanned/);
    assert.match(text, /for example: cache:\S+ \((string|hash|list), ttl [^,]+, [\d.]+ \w+\)/);
    assert.match(text, /Risk\*\nmedium: the app recomputes these entries/);
    assert.match(text, /1 distinct, role approver/);
    assert.equal(await count('cache:*'), 20_007, 'nothing deleted before approval');

    await approve(ts, id, MGR1);
    const progress = await waitForMessage(t.fake, ts, /[\d,]+ deleted of about 20,002, 0 protected skipped|[\d,]+ deleted of about 20,002, \d protected skipped/, scaled(30_000));
    assert.match(progress, /🔄 Running: deleting the keys matching `cache:\*` in db 0 of cache…/);
    assert.ok(findButton({ method: 'chat.update', args: latest(ts), at: 0, status: 200, result: {} } as FakeSlackCall, 'approval.stop'), 'a Stop button while it runs');
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌/, scaled(60_000));
    assert.match(done, /✅ Done: Deleted 20,002 keys matching `cache:\*` in db 0 of cache, in [^;]+; 5 protected keys skipped\./);
    assert.match(done, /\d+ batches of up to 200 keys, 40 ms apart/);

    assert.equal(await count('cache:*'), 5, 'only the protected cache:keep:* keys are left');
    assert.equal(await count('session:*'), 500);
    assert.equal(await redis.cli('LLEN', 'celery'), '7');
    assert.equal(await redis.cli('EXISTS', '_kombu.binding.celery', 'unacked', 'unacked_index'), '3');
  });

  test('Stop ends it between batches; the count on the card is exactly what went', { timeout: TIMEOUT }, async () => {
    await fill();
    const { ts, id } = await request('clear cache:*');
    await approve(ts, id, MGR1);
    await waitForMessage(t.fake, ts, /[1-9][\d,]* deleted of about/, scaled(30_000));
    const stop = findButton({ method: 'chat.update', args: latest(ts), at: 0, status: 200, result: {} } as FakeSlackCall, 'approval.stop');
    assert.ok(stop, 'a Stop button');
    await t.click({ user: OPER, channel: 'C0OPS', ts, actionId: 'approval.stop', value: stop.value });
    const text = await waitForMessage(t.fake, ts, /Stopped by|✅ Done|❌/, scaled(30_000));
    const m = /Stopped by <@U0OPER>\. Stopped between batches: ([\d,]+) keys matching `cache:\*` were deleted, (\d+) protected skipped; the rest are still there\./.exec(text);
    assert.ok(m, text);
    const deleted = Number(m[1].replace(/,/g, ''));
    assert.ok(deleted > 0 && deleted < 20_002, `stopped midway (${deleted})`);
    // Nothing runs on after the card says it stopped.
    const left = await count('cache:*');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await count('cache:*'), left);
    assert.equal(left, 20_007 - deleted, 'the keys left are exactly those not counted as deleted');
    assert.equal(await count('session:*'), 500);
    // Finish the job for the next tests.
    await lua("local c = '0' repeat local r = redis.call('SCAN', c, 'MATCH', 'cache:*', 'COUNT', 1000) c = r[1] for _, k in ipairs(r[2]) do if not string.find(k, '^cache:keep:') then redis.call('DEL', k) end end until c == '0' return 1");
  });

  test('a pattern matching only protected keys is refused; --include-protected needs two approvers and then deletes them', { timeout: TIMEOUT }, async () => {
    const { reply } = await t.run('/cache', 'clear unacked*', { user: OPER });
    assert.match(messageText(reply), /All 2 keys matching `unacked\*` are protected \(unacked(_index)?, unacked(_index)?\); nothing would be deleted\. Add --include-protected/);

    const { ts, id, text } = await request('clear unacked* --include-protected');
    assert.match(text, /--include-protected: protected keys .* are deleted too; 2 found/);
    assert.match(text, /Risk\*\nhigh: Celery's keys go too/);
    assert.match(text, /2 distinct, role approver or admin/);
    await approve(ts, id, MGR1);
    await waitForMessage(t.fake, ts, /Waiting for approval: 1 of 2/, scaled(10_000));
    assert.equal(await redis.cli('EXISTS', 'unacked', 'unacked_index'), '2', 'one approval is not enough');
    await approve(ts, id, MGR2);
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌/, scaled(30_000));
    assert.match(done, /Deleted 2 keys matching `unacked\*` in db 0 of cache, protected ones included/);
    assert.equal(await redis.cli('EXISTS', 'unacked', 'unacked_index'), '0');
    assert.equal(await redis.cli('LLEN', 'celery'), '7');
  });

  test('--dry-run shows the plan only to the caller; a pattern matching nothing is refused', async () => {
    const before = t.fake.calls.length;
    const { reply } = await t.run('/cache', 'clear session:1* --dry-run', { user: OPER });
    assert.equal(reply.args.response_type, 'ephemeral');
    const text = messageText(reply);
    assert.match(text, /Dry run: this is the plan\. Nothing was changed\./);
    assert.match(text, /delete 111 keys matching `session:1\*`/);
    assert.equal(t.fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage').length, 0, 'no card');
    assert.equal(await count('session:*'), 500);
    assert.match(messageText((await t.run('/cache', 'clear nomatch:*', { user: OPER })).reply), /No key matches `nomatch:\*` in db 0 of Redis cache \(all [\d,]+ keys scanned\); nothing to clear\./);
  });

  test('only holders of permissions.cache may ask', async () => {
    assert.match(messageText((await t.run('/cache', 'clear session:*', { user: 'U0NOBODY' })).reply), /⛔ \/cache clear needs the role operator/);
  });
});

describe('/cache flush', () => {
  test('the plan shows DBSIZE and Celery\'s queue; two approvals run FLUSHDB ASYNC on that database only', { timeout: TIMEOUT }, async () => {
    await redis.cli('-n', '1', 'EVAL', "for i=1,1000 do redis.call('SET','k'..i,i) end redis.call('RPUSH','celery','a','b','c') redis.call('SADD','_kombu.binding.celery','celery') return 1", '0');
    const db0 = Number(await redis.cli('DBSIZE'));
    const { ts, id, text } = await request('flush --db 1');
    assert.match(text, /FLUSHDB db 1 of Redis cache \(127\.0\.0\.1:\d+\): all 1,002 keys are deleted/);
    assert.match(text, /Celery's queue celery holds 3 tasks: they are lost/);
    assert.match(text, /1 _kombu\.binding\.\* key goes too: Celery cannot route new tasks until its workers restart/);
    assert.match(text, /Risk\*\nhigh: every key of the database is lost, Celery's queue celery with its 3 tasks included/);
    assert.match(text, /2 distinct, role approver or admin/);
    await approve(ts, id, MGR1);
    await waitForMessage(t.fake, ts, /Waiting for approval: 1 of 2/, scaled(10_000));
    assert.equal(await redis.cli('-n', '1', 'DBSIZE'), '1002');
    await approve(ts, id, MGR2);
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌/, scaled(30_000));
    assert.match(done, /db 1 of cache flushed: 1,002 keys deleted\./);
    assert.match(done, /restart the Celery workers/);
    await until('db 1 empty', scaled(5000), async () => redis.cli('-n', '1', 'DBSIZE'), (n) => n === '0');
    assert.equal(Number(await redis.cli('DBSIZE')), db0, 'db 0 untouched');
  });

  test('refused at run time when Celery\'s queue grew well past what was approved', { timeout: TIMEOUT }, async () => {
    const { ts, id, text } = await request('flush');
    assert.match(text, /Celery's queue celery holds 7 tasks/);
    await redis.cli('RPUSH', 'celery', ...Array.from({ length: 50 }, (_, i) => `late${i}`));
    await approve(ts, id, MGR1);
    await approve(ts, id, MGR2);
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌/, scaled(30_000));
    assert.match(done, /❌ Failed: precondition failed: Celery's queue celery grew from 7 tasks when approved to 57; ask again/);
    assert.equal(await redis.cli('LLEN', 'celery'), '57', 'nothing was flushed');
  });
});
