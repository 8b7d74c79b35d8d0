/**
 * /db maintenance against a real PostgreSQL: plain VACUUM and ANALYZE run as jobs; VACUUM FULL,
 * REINDEX and CREATE INDEX wait for approval; concurrent builds leave no invalid index behind
 * when they fail or are stopped; progress comes from pg_stat_progress_*.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { messageText, waitForMessage } from '../helpers/bot.ts';
import { DBA, OPER, startDbBot, type DbBot } from '../helpers/db.ts';
import { query } from '../helpers/sql.ts';
import { scaled, until } from '../helpers/wait.ts';
import { parseConfig } from '../../src/config/load.ts';
import { leftAfter } from '../../src/db/reindex.ts';
import { translator } from '../../src/i18n/index.ts';
import { createTargets } from '../../src/targets/index.ts';

const ODD = 'Order "Items" 订单';
const oddSql = `"${ODD.replace(/"/g, '""')}"`;

let b: DbBot;
let url: string;

before(async () => {
  b = await startDbBot({ config: { db: { lock_timeout: '1s' } } });
  url = b.url;
  await query(url, 'create table churn (id int primary key, v text) with (autovacuum_enabled = false)');
  await query(url, `create table ${oddSql} (id int primary key, "Item Name" text)`);
  await query(url, `insert into ${oddSql} select g, 'item ' || g from generate_series(1, 1000) g`);
});
after(async () => {
  await b?.close();
});

describe('/db vacuum and /db analyze', () => {
  test('a grant to read is not a grant to act', async () => {
    const { reply } = await b.t.run('/db', 'vacuum churn', { user: OPER });
    assert.match(messageText(reply), /\/db vacuum needs the role dba/);
    const list = messageText((await b.t.run('/db', '', { user: OPER })).reply);
    assert.match(list, /\/db sizes/);
    assert.doesNotMatch(list, /\/db vacuum|\/db terminate/);
  });

  test('plain VACUUM runs at once as a job, shows its lock and estimate, and reclaims the dead tuples', async () => {
    await query(url, 'insert into churn select g, md5(g::text) from generate_series(1, 20000) g');
    await query(url, 'delete from churn where id % 2 = 0');
    await until('dead tuples counted', scaled(10_000), () => b.count(`select n_dead_tup::text as n from pg_stat_user_tables where relname = 'churn'`), (n) => n >= 10000);
    const { reply, card, ts } = await b.request('vacuum churn');
    assert.match(reply, /Started as r-\w+/);
    const plan = messageText(card);
    assert.match(plan, /VACUUM public\.churn: 10,000 dead tuples/);
    assert.match(plan, /vacuum "public"\."churn"/);
    assert.match(plan, /Lock: SHARE UPDATE EXCLUSIVE on the table\. Reads and writes go on/);
    assert.match(plan, /Reads up to [\d.]+ (kB|MB) \(the table and its indexes\): about \d+ sec at 100 MB\/s/);
    const done = await b.final(ts);
    // A job: started by the requester, approved by nobody.
    assert.match(done, /✅ Done: VACUUM of public\.churn done in .* \(started by <@U0DBA>\)/);
    assert.match(done, /Approvers\*\nnot needed/);
    assert.match(done, /dead tuples: 10,000 → 0/);
    assert.equal(await b.count(`select n_dead_tup::text as n from pg_stat_user_tables where relname = 'churn'`), 0);
  });

  test('an unknown table is refused with the closest name; odd names are quoted by the driver', async () => {
    const { reply } = await b.t.run('/db', 'analyze chrun', { user: DBA });
    assert.match(messageText(reply), /There is no table "chrun" in this database\. Did you mean churn\?/);
    const { card, ts } = await b.request(`analyze '${ODD}'`);
    assert.match(messageText(card), new RegExp(`analyze "public"\\."Order ""Items"" 订单"`));
    await b.final(ts);
    assert.ok((await query(url, `select last_analyze from pg_stat_user_tables where relname = $1 and last_analyze is not null`, [ODD])).length);
  });

  test('VACUUM FULL waits for approval, gives up on a held lock after db.lock_timeout, and shrinks the table once approved', async () => {
    await query(url, 'delete from churn where id % 4 = 1');
    const sizeBefore = await b.count(`select pg_total_relation_size('churn')::text as n`);
    const { reply, card, ts, id } = await b.request('vacuum churn --full');
    assert.match(reply, /Approval requested/);
    const plan = messageText(card);
    assert.match(plan, /Lock: ACCESS EXCLUSIVE on the table\. Every read and write of it waits/);
    assert.match(plan, /Needs up to [\d.]+ (kB|MB) free/);
    assert.match(plan, /Risk\*\nhigh: the application cannot read or write the table while it runs; if the lock is not granted within 1 sec/);
    // A reader holds the table: the rewrite must not queue the application behind it.
    const reader = await b.session('reader');
    try {
      await reader.client.query('begin');
      await reader.client.query('select count(*) from churn');
      await b.approve(ts, id);
      const failed = await b.final(ts);
      assert.match(failed, /❌ Failed: The lock was not granted within 1 sec \(db\.lock_timeout\)/);
    } finally {
      await reader.client.query('rollback').catch(() => {});
      await reader.client.end();
    }
    assert.equal(await b.count(`select pg_total_relation_size('churn')::text as n`), sizeBefore);
    const again = await b.request('vacuum churn --full');
    await b.approve(again.ts, again.id);
    const done = await b.final(again.ts);
    assert.match(done, /✅ Done: VACUUM FULL of public\.churn done/);
    assert.ok(await b.count(`select pg_total_relation_size('churn')::text as n`) < sizeBefore, 'the rewrite gave space back');
  });

  test('--full needs a table; cards in a Chinese channel are in Chinese', async () => {
    assert.match(messageText((await b.t.run('/db', 'vacuum --full', { user: DBA })).reply), /--full needs a table/);
    const { card, ts } = await b.request('vacuum churn', 'C0ZH');
    assert.match(messageText(card), /VACUUM public\.churn：[\d,]+ 个死元组/);
    assert.match(await b.final(ts, /已完成|失败/), /✅ .*VACUUM 已完成/);
  });
});

describe('/db index create and /db reindex', () => {
  test('a unique index on duplicate data fails, and the invalid index it left is dropped', async () => {
    await query(url, 'create table dupes (v int)');
    await query(url, 'insert into dupes select g % 10 from generate_series(1, 1000) g');
    const { card, ts, id } = await b.request('index create dupes (v) --unique');
    assert.match(messageText(card), /create unique index concurrently "dupes_v_idx" on "public"\."dupes" \("v"\)/);
    await b.approve(ts, id);
    const failed = await b.final(ts);
    assert.match(failed, /❌ Failed: PostgreSQL refused it: could not create unique index "dupes_v_idx".*The invalid index it left was dropped: public\.dupes_v_idx\./s);
    assert.equal(await b.count(`select count(*)::text as n from pg_class where relname = 'dupes_v_idx'`), 0);
  });

  test('progress is shown while the build waits for an old transaction; Stop cancels it and the invalid index is dropped', async () => {
    // A snapshot older than the build: CREATE INDEX CONCURRENTLY waits for it before it can finish.
    const old = await b.session('old-snapshot');
    try {
      await old.client.query('begin isolation level repeatable read');
      await old.client.query('select count(*) from pgbench_branches');
      const { ts, id } = await b.request('index create pgbench_accounts (abalance)');
      await b.approve(ts, id);
      const waiting = await waitForMessage(b.t.fake, ts, /waiting for older transactions to end/, scaled(60_000));
      assert.match(waiting, new RegExp(`pgbench_accounts · waiting for old snapshots · waiting for older transactions to end \\(0 of 1; now pid ${old.pid}\\)`));
      assert.equal(await b.count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'pgbench_accounts_abalance_idx' and not i.indisvalid`), 1);
      await b.t.click({ user: DBA, channel: 'C0OPS', ts, actionId: 'approval.stop', value: id });
      const stopped = await b.final(ts, /Stopped by/);
      assert.match(stopped, /Stopped by <@U0DBA>\. The statement was cancelled\. The invalid index it left was dropped: public\.pgbench_accounts_abalance_idx\./);
    } finally {
      await old.client.query('rollback').catch(() => {});
      await old.client.end();
    }
    assert.equal(await b.count(`select count(*)::text as n from pg_class where relname = 'pgbench_accounts_abalance_idx'`), 0);
  });

  test('an index on odd names, columns given the way Slack splits them', async () => {
    const { card, ts, id } = await b.request(`index create '${ODD}' ("Item Name", id) --name "odd idx"`);
    assert.match(messageText(card), /create index concurrently "odd idx" on "public"\."Order ""Items"" 订单" \("Item Name", "id"\)/);
    await b.approve(ts, id);
    assert.match(await b.final(ts), /✅ Done: Index public\."odd idx" built/);
    assert.equal(await b.count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'odd idx' and i.indisvalid`), 1);
    const { reply } = await b.t.run('/db', `index create '${ODD}' (item_nam)`, { user: DBA });
    assert.match(messageText(reply), /has no column "item_nam".*Did you mean Item Name\?/s);
  });

  test('REINDEX CONCURRENTLY of a pgbench table while another session keeps writing to it', async () => {
    const writer = await b.session('writer');
    const writes: Array<{ start: number; ms: number }> = [];
    const errors: string[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const start = Date.now();
        try {
          await writer.client.query('update pgbench_accounts set abalance = abalance + 1 where aid = $1', [1 + Math.floor(Math.random() * 100_000)]);
          writes.push({ start, ms: Date.now() - start });
        } catch (err) {
          errors.push(String(err));
        }
      }
    })();
    try {
      const indexBefore = await b.count(`select c.oid::text as n from pg_class c where relname = 'pgbench_accounts_pkey'`);
      const { card, ts, id } = await b.request('reindex pgbench_accounts');
      const plan = messageText(card);
      assert.match(plan, /REINDEX TABLE CONCURRENTLY public\.pgbench_accounts: its index \([\d.]+ (kB|MB)\)/);
      assert.match(plan, /reindex table concurrently "public"\."pgbench_accounts"/);
      assert.match(plan, /Lock: SHARE UPDATE EXCLUSIVE/);
      const approvedAt = Date.now();
      await b.approve(ts, id);
      const done = await b.final(ts);
      const doneAt = Date.now();
      assert.match(done, /✅ Done: REINDEX CONCURRENTLY of public\.pgbench_accounts done/);
      assert.match(done, /indexes: [\d.]+ (kB|MB) → [\d.]+ (kB|MB)/);
      const during = writes.filter((w) => w.start >= approvedAt && w.start <= doneAt);
      assert.ok(during.length > 0, 'writes went on while the index was rebuilt');
      assert.ok(Math.max(...during.map((w) => w.ms)) < scaled(5_000), `no write waited for the rebuild: ${Math.max(...during.map((w) => w.ms))} ms`);
      // A new index took the old one's place, valid, and no copy was left.
      assert.notEqual(await b.count(`select c.oid::text as n from pg_class c where relname = 'pgbench_accounts_pkey'`), indexBefore);
      assert.equal(await b.count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname like 'pgbench_accounts%' and not i.indisvalid`), 0);
    } finally {
      running = false;
      await loop;
      await writer.client.end();
    }
    assert.deepEqual(errors, []);
  });

  test('/db reindex database goes table by table, concurrently', async () => {
    const tables = await b.count(`select count(*)::text as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm') and n.nspname = 'public' and exists (select 1 from pg_index i where i.indrelid = c.oid)`);
    const { card, ts, id } = await b.request('reindex database');
    assert.match(messageText(card), new RegExp(`REINDEX CONCURRENTLY every index of opsbot_test_\\w+, table by table: ${tables} tables`));
    assert.match(messageText(card), /Lock: SHARE UPDATE EXCLUSIVE on each table in turn/);
    await b.approve(ts, id);
    assert.match(await b.final(ts), new RegExp(`✅ Done: REINDEX CONCURRENTLY done: ${tables} of ${tables} tables`));
    assert.equal(await b.count(`select count(*)::text as n from pg_index where not indisvalid`), 0);
  });

  test('a run interrupted mid-build: its card names the invalid index left and the statement that drops it', async () => {
    await query(url, 'create table leftover (v int)');
    await query(url, 'insert into leftover values (1), (1)');
    await query(url, 'create unique index concurrently leftover_v on leftover (v)').catch(() => {});
    const oid = await b.count(`select 'leftover'::regclass::oid::text as n`);
    const targets = createTargets(parseConfig({ targets: { local: false, postgres: { main: { url } } } }, 'test'));
    try {
      const where = await leftAfter({ targets, t: translator('en') }, { summary: '', steps: [], risk: 'medium', target: { target: 'main', oid, schema: 'public', name: 'leftover' } });
      assert.equal(where.summary, 'The run was interrupted; invalid indexes are left: public.leftover_v. Drop them as below, or run the command again.');
      assert.deepEqual(where.lines, ['drop index concurrently "public"."leftover_v";']);
    } finally {
      await targets.close();
    }
  });

  test('/db reindex of an index, and of an unknown name', async () => {
    const { ts, id } = await b.request('reindex pgbench_branches_pkey');
    await b.approve(ts, id);
    assert.match(await b.final(ts), /✅ Done: REINDEX CONCURRENTLY of public\.pgbench_branches_pkey done/);
    assert.match(messageText((await b.t.run('/db', 'reindex pgbench_acounts', { user: DBA })).reply), /There is no table or index "pgbench_acounts".*Did you mean pgbench_accounts\?/s);
  });
});
