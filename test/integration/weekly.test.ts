/**
 * The weekly maintenance report (manual §1.3 每周维护) against a real PostgreSQL and Redis: it lists
 * a table full of dead tuples, and its buttons run /db vacuum and /db reindex through the
 * dispatcher as whoever clicks: someone without the grant is refused, the DBA's VACUUM runs as a
 * job, and REINDEX waits on an approval card. A Chinese channel reads it in Chinese.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { messageText, waitForMessage } from '../helpers/bot.ts';
import { DBA, startDbBot, type DbBot } from '../helpers/db.ts';
import { query } from '../helpers/sql.ts';
import { scaled, until } from '../helpers/wait.ts';

let db: DbBot;
let redis: RedisServer;
const NOBODY = 'U0NOBODY';

before(async () => {
  redis = await startRedis();
  db = await startDbBot({ targets: { redis: { cache: { url: redis.url } } } });
  // A table autovacuum leaves alone, 60% dead after a big delete: what the weekly VACUUM is for.
  await query(db.url, 'create table weekly_bloat (id int primary key, note text) with (autovacuum_enabled = false)');
  await query(db.url, `insert into weekly_bloat select g, repeat('x', 100) from generate_series(1, 10000) g`);
  await query(db.url, 'delete from weekly_bloat where id <= 6000');
  await until('dead tuples counted', scaled(15_000), () => db.count(`select n_dead_tup as n from pg_stat_user_tables where relname = 'weekly_bloat'`), (n) => n >= 6000, 200);
});
after(async () => {
  await db?.close();
  await redis?.stop();
});

/** The buttons of a posted message: action_id and the command line each carries. */
function buttons(call: FakeSlackCall): Array<{ id: string; value: string; text: string }> {
  return ((call.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string; text?: { text: string } }> }>)
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.action_id?.startsWith('command.run'))
    .map((e) => ({ id: e.action_id!, value: e.value ?? '', text: e.text?.text ?? '' }));
}

async function weekly(channel = 'C0OPS') {
  const { reply } = await db.t.run('/maintenance', 'weekly', { channel, user: 'U0OPER' });
  assert.equal(reply.method, 'chat.postMessage', messageText(reply));
  return { reply, text: messageText(reply), ts: reply.result!.ts as string };
}

describe('/maintenance weekly', () => {
  test('it lists the bloated table, slow queries, unused indexes and the cache, with buttons for the fixes', async () => {
    const { reply, text } = await weekly();
    assert.match(text, /Weekly maintenance \(main\)/);
    assert.match(text, /1 table needs a VACUUM/);
    assert.match(text, /❌ public\.weekly_bloat: 6,000 dead/);
    assert.match(text, /Slow queries/);
    assert.match(text, /Unused indexes[\s\S]*Nothing is dropped from here/);
    assert.match(text, /Cache cache[\s\S]*maxmemory/);
    const values = buttons(reply).map((b) => b.value);
    assert.deepEqual(values.filter((v) => v.includes('weekly_bloat')), ['/db vacuum public.weekly_bloat', '/db analyze public.weekly_bloat', '/db reindex public.weekly_bloat']);
    assert.ok(values.includes('/db analyze'));
    assert.ok(!values.some((v) => /drop/i.test(v)), 'nothing offers to drop');
    assert.equal(new Set(buttons(reply).map((b) => b.id)).size, values.length, 'action ids are unique in the message');
  });

  test('a click runs the command as the clicker: refused without the grant, a job for the DBA, an approval card for REINDEX', async () => {
    const { reply, ts } = await weekly();
    const vacuum = buttons(reply).find((b) => b.value === '/db vacuum public.weekly_bloat')!;
    const reindex = buttons(reply).find((b) => b.value === '/db reindex public.weekly_bloat')!;
    const fake = db.t.fake;

    // Someone without the db.vacuum grant: the dispatcher refuses, and only they hear it.
    await db.t.click({ user: NOBODY, channel: 'C0OPS', ts, actionId: vacuum.id, value: vacuum.value, responseId: 'nobody' });
    const refused = await fake.waitFor((c) => c.method === 'response_url' && c.target === 'nobody', scaled(15_000));
    assert.match(messageText(refused), /⛔ \/db vacuum needs the role dba/);

    // The DBA: plain VACUUM is a job and runs at once on its card; the dead tuples are gone after.
    let before = fake.calls.length;
    await db.t.click({ user: DBA, channel: 'C0OPS', ts, actionId: vacuum.id, value: vacuum.value, responseId: 'dba-vacuum' });
    const job = await fake.waitFor((c) => fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS', scaled(15_000));
    assert.match(await waitForMessage(fake, job.result!.ts as string, /✅ Done/, scaled(60_000)), /weekly_bloat/);
    assert.equal(await db.count(`select n_dead_tup as n from pg_stat_user_tables where relname = 'weekly_bloat'`), 0);
    await db.t.bot.idle();
    const audited = await query<{ actor: string }>(db.t.stateDbUrl, `select actor from audit_events where command like 'db%' order by id`);
    assert.ok(audited.some((a) => a.actor === DBA) && audited.some((a) => a.actor === NOBODY), 'both clicks are audited as the clicker');

    // REINDEX needs a vote: the click posts an approval card, and nothing runs until someone approves.
    before = fake.calls.length;
    await db.t.click({ user: DBA, channel: 'C0OPS', ts, actionId: reindex.id, value: reindex.value, responseId: 'dba-reindex' });
    const card = await fake.waitFor((c) => fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS', scaled(15_000));
    const cardText = messageText(card);
    assert.match(cardText, /REINDEX/);
    assert.match(cardText, /<@U0DBA>/);
    const approve = ((card.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string }> }>).flatMap((b) => b.elements ?? []).some((e) => e.action_id === 'approval.approve');
    assert.ok(approve, `an approval card:\n${cardText}`);
  });

  test('a Chinese channel reads the report in Chinese', async () => {
    const { text } = await weekly('C0ZH');
    assert.match(text, /每周维护（main）/);
    assert.match(text, /死元组/);
    assert.match(text, /未使用的索引[\s\S]*这里不会删除任何索引/);
  });
});
