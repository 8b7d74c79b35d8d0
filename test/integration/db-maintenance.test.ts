/**
 * /db maintenance against a real PostgreSQL: plain VACUUM and ANALYZE run as jobs, VACUUM FULL,
 * REINDEX, CREATE INDEX and terminate wait for approval; concurrent builds leave no invalid
 * index behind when they fail or are stopped; progress comes from pg_stat_progress_*; a session
 * is acted on only if it is the very one that was planned.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';

const DBA = 'U0DBA';
const MGR = 'U0MGR';
const OPER = 'U0OPER';
const ODD = 'Order "Items" 订单';
const oddSql = `"${ODD.replace(/"/g, '""')}"`;
const LONG = scaled(60_000);

let t: TestBot;
let url: string;

before(async () => {
  const server = await sharedPostgres();
  url = await server.createDatabase();
  await pgbenchInit(url, 1);
  await query(url, 'create table churn (id int primary key, v text) with (autovacuum_enabled = false)');
  await query(url, `create table ${oddSql} (id int primary key, "Item Name" text)`);
  await query(url, `insert into ${oddSql} select g, 'item ' || g from generate_series(1, 1000) g`);
  const grant = ['dba'];
  t = await startTestBot({
    targets: { local: false, postgres: { main: { url } } },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { dba: [DBA], approver: [MGR], operator: [OPER] },
    permissions: {
      db: ['operator', 'dba'],
      'db.analyze': grant, 'db.vacuum': grant, 'db.reindex': grant, 'db.index.create': grant, 'db.cancel': grant, 'db.terminate': grant,
    },
    approvals: {
      lease: '2s',
      rules: Object.fromEntries(['db.vacuum', 'db.reindex', 'db.index.create', 'db.terminate'].map((k) => [k, { approvers: ['approver'], count: 1 }])),
    },
    db: { lock_timeout: '1s' },
  });
});
after(async () => {
  await t?.close();
});

/** Sends /db <text> as the DBA; returns the private reply and the card it posted in the channel. */
async function request(text: string, channel = 'C0OPS'): Promise<{ reply: string; card: FakeSlackCall; ts: string; id: string }> {
  const before = t.fake.calls.length;
  const after = (c: FakeSlackCall) => t.fake.calls.indexOf(c) >= before;
  const ack = await t.command('/db', text, { user: DBA, channel });
  assert.equal(ack.status, 200);
  const [reply, card] = await Promise.all([
    t.fake.waitFor((c) => after(c) && c.method === 'response_url' && c.args.response_type === 'ephemeral', scaled(15_000)),
    t.fake.waitFor((c) => after(c) && c.method === 'chat.postMessage' && c.args.channel === channel, scaled(15_000)),
  ]);
  const ts = card.result!.ts as string;
  const id = /\((r-\w+)\)/.exec(messageText(card))![1];
  return { reply: messageText(reply), card, ts, id };
}

const approve = (ts: string, id: string, channel = 'C0OPS') => t.click({ user: MGR, channel, ts, actionId: 'approval.approve', value: id });
const final = (ts: string, re = /✅ Done|❌ Failed|Stopped by|⛔|precondition/) => waitForMessage(t.fake, ts, re, LONG);
const count = async (sql: string, params: unknown[] = []) => Number((await query<{ n: string }>(url, sql, params))[0].n);

async function session(name: string): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: name });
  client.on('error', () => {});
  await client.connect();
  return { client, pid: (await client.query('select pg_backend_pid() as p')).rows[0].p as number };
}

describe('/db vacuum and /db analyze', () => {
  test('a grant to read is not a grant to act', async () => {
    const { reply } = await t.run('/db', 'vacuum churn', { user: OPER });
    assert.match(messageText(reply), /\/db vacuum needs the role dba/);
    const list = messageText((await t.run('/db', '', { user: OPER })).reply);
    assert.match(list, /\/db sizes/);
    assert.doesNotMatch(list, /\/db vacuum|\/db terminate/);
  });

  test('plain VACUUM runs at once as a job, shows its lock and estimate, and reclaims the dead tuples', async () => {
    await query(url, 'insert into churn select g, md5(g::text) from generate_series(1, 20000) g');
    await query(url, 'delete from churn where id % 2 = 0');
    await until('dead tuples counted', scaled(10_000), () => count(`select n_dead_tup::text as n from pg_stat_user_tables where relname = 'churn'`), (n) => n >= 10000);
    const { reply, card, ts } = await request('vacuum churn');
    assert.match(reply, /Started as r-\w+/);
    const plan = messageText(card);
    assert.match(plan, /VACUUM public\.churn: 10,000 dead tuples/);
    assert.match(plan, /vacuum "public"\."churn"/);
    assert.match(plan, /Lock: SHARE UPDATE EXCLUSIVE on the table\. Reads and writes go on/);
    assert.match(plan, /Reads up to [\d.]+ (kB|MB) \(the table and its indexes\): about \d+ sec at 100 MB\/s/);
    const done = await final(ts);
    // A job: started by the requester, approved by nobody.
    assert.match(done, /✅ Done: VACUUM of public\.churn done in .* \(started by <@U0DBA>\)/);
    assert.match(done, /Approvers\*\nnot needed/);
    assert.match(done, /dead tuples: 10,000 → 0/);
    assert.equal(await count(`select n_dead_tup::text as n from pg_stat_user_tables where relname = 'churn'`), 0);
  });

  test('an unknown table is refused with the closest name; odd names are quoted by the driver', async () => {
    const { reply } = await t.run('/db', 'analyze chrun', { user: DBA });
    assert.match(messageText(reply), /There is no table "chrun" in this database\. Did you mean churn\?/);
    const { card, ts } = await request(`analyze '${ODD}'`);
    assert.match(messageText(card), new RegExp(`analyze "public"\\."Order ""Items"" 订单"`));
    await final(ts);
    assert.ok((await query(url, `select last_analyze from pg_stat_user_tables where relname = $1 and last_analyze is not null`, [ODD])).length);
  });

  test('VACUUM FULL waits for approval, gives up on a held lock after db.lock_timeout, and shrinks the table once approved', async () => {
    await query(url, 'delete from churn where id % 4 = 1');
    const sizeBefore = await count(`select pg_total_relation_size('churn')::text as n`);
    const { reply, card, ts, id } = await request('vacuum churn --full');
    assert.match(reply, /Approval requested/);
    const plan = messageText(card);
    assert.match(plan, /Lock: ACCESS EXCLUSIVE on the table\. Every read and write of it waits/);
    assert.match(plan, /Needs up to [\d.]+ (kB|MB) free/);
    assert.match(plan, /Risk\*\nhigh: the application cannot read or write the table while it runs; if the lock is not granted within 1 sec/);
    // A reader holds the table: the rewrite must not queue the application behind it.
    const reader = await session('reader');
    try {
      await reader.client.query('begin');
      await reader.client.query('select count(*) from churn');
      await approve(ts, id);
      const failed = await final(ts);
      assert.match(failed, /❌ Failed: The lock was not granted within 1 sec \(db\.lock_timeout\)/);
    } finally {
      await reader.client.query('rollback').catch(() => {});
      await reader.client.end();
    }
    assert.equal(await count(`select pg_total_relation_size('churn')::text as n`), sizeBefore);
    const again = await request('vacuum churn --full');
    await approve(again.ts, again.id);
    const done = await final(again.ts);
    assert.match(done, /✅ Done: VACUUM FULL of public\.churn done/);
    assert.ok(await count(`select pg_total_relation_size('churn')::text as n`) < sizeBefore, 'the rewrite gave space back');
  });

  test('--full needs a table; cards in a Chinese channel are in Chinese', async () => {
    assert.match(messageText((await t.run('/db', 'vacuum --full', { user: DBA })).reply), /--full needs a table/);
    const { card, ts } = await request('vacuum churn', 'C0ZH');
    assert.match(messageText(card), /VACUUM public\.churn：[\d,]+ 个死元组/);
    assert.match(await final(ts, /已完成|失败/), /✅ .*VACUUM 已完成/);
  });
});

describe('/db index create and /db reindex', () => {
  test('a unique index on duplicate data fails, and the invalid index it left is dropped', async () => {
    await query(url, 'create table dupes (v int)');
    await query(url, 'insert into dupes select g % 10 from generate_series(1, 1000) g');
    const { card, ts, id } = await request('index create dupes (v) --unique');
    assert.match(messageText(card), /create unique index concurrently "dupes_v_idx" on "public"\."dupes" \("v"\)/);
    await approve(ts, id);
    const failed = await final(ts);
    assert.match(failed, /❌ Failed: PostgreSQL refused it: could not create unique index "dupes_v_idx".*The invalid index it left was dropped: public\.dupes_v_idx\./s);
    assert.equal(await count(`select count(*)::text as n from pg_class where relname = 'dupes_v_idx'`), 0);
  });

  test('progress is shown while the build waits for an old transaction; Stop cancels it and the invalid index is dropped', async () => {
    // A snapshot older than the build: CREATE INDEX CONCURRENTLY waits for it before it can finish.
    const old = await session('old-snapshot');
    try {
      await old.client.query('begin isolation level repeatable read');
      await old.client.query('select count(*) from pgbench_branches');
      const { ts, id } = await request('index create pgbench_accounts (abalance)');
      await approve(ts, id);
      const waiting = await waitForMessage(t.fake, ts, /waiting for older transactions to end/, LONG);
      assert.match(waiting, new RegExp(`pgbench_accounts · waiting for old snapshots · waiting for older transactions to end \\(0 of 1; now pid ${old.pid}\\)`));
      assert.equal(await count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'pgbench_accounts_abalance_idx' and not i.indisvalid`), 1);
      await t.click({ user: DBA, channel: 'C0OPS', ts, actionId: 'approval.stop', value: id });
      const stopped = await final(ts, /Stopped by/);
      assert.match(stopped, /Stopped by <@U0DBA>\. The statement was cancelled\. The invalid index it left was dropped: public\.pgbench_accounts_abalance_idx\./);
    } finally {
      await old.client.query('rollback').catch(() => {});
      await old.client.end();
    }
    assert.equal(await count(`select count(*)::text as n from pg_class where relname = 'pgbench_accounts_abalance_idx'`), 0);
  });

  test('an index on odd names, columns given the way Slack splits them', async () => {
    const { card, ts, id } = await request(`index create '${ODD}' ("Item Name", id) --name "odd idx"`);
    assert.match(messageText(card), /create index concurrently "odd idx" on "public"\."Order ""Items"" 订单" \("Item Name", "id"\)/);
    await approve(ts, id);
    assert.match(await final(ts), /✅ Done: Index public\."odd idx" built/);
    assert.equal(await count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'odd idx' and i.indisvalid`), 1);
    const { reply } = await t.run('/db', `index create '${ODD}' (item_nam)`, { user: DBA });
    assert.match(messageText(reply), /has no column "item_nam".*Did you mean Item Name\?/s);
  });

  test('REINDEX CONCURRENTLY of a pgbench table while another session keeps writing to it', async () => {
    const writer = await session('writer');
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
      const indexBefore = await count(`select c.oid::text as n from pg_class c where relname = 'pgbench_accounts_pkey'`);
      const { card, ts, id } = await request('reindex pgbench_accounts');
      const plan = messageText(card);
      assert.match(plan, /REINDEX TABLE CONCURRENTLY public\.pgbench_accounts: its index \([\d.]+ (kB|MB)\)/);
      assert.match(plan, /reindex table concurrently "public"\."pgbench_accounts"/);
      assert.match(plan, /Lock: SHARE UPDATE EXCLUSIVE/);
      const approvedAt = Date.now();
      await approve(ts, id);
      const done = await final(ts);
      const doneAt = Date.now();
      assert.match(done, /✅ Done: REINDEX CONCURRENTLY of public\.pgbench_accounts done/);
      assert.match(done, /indexes: [\d.]+ (kB|MB) → [\d.]+ (kB|MB)/);
      const during = writes.filter((w) => w.start >= approvedAt && w.start <= doneAt);
      assert.ok(during.length > 0, 'writes went on while the index was rebuilt');
      assert.ok(Math.max(...during.map((w) => w.ms)) < scaled(5_000), `no write waited for the rebuild: ${Math.max(...during.map((w) => w.ms))} ms`);
      // A new index took the old one's place, valid, and no copy was left.
      assert.notEqual(await count(`select c.oid::text as n from pg_class c where relname = 'pgbench_accounts_pkey'`), indexBefore);
      assert.equal(await count(`select count(*)::text as n from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname like 'pgbench_accounts%' and not i.indisvalid`), 0);
    } finally {
      running = false;
      await loop;
      await writer.client.end();
    }
    assert.deepEqual(errors, []);
  });

  test('/db reindex of an index, and of an unknown name', async () => {
    const { ts, id } = await request('reindex pgbench_branches_pkey');
    await approve(ts, id);
    assert.match(await final(ts), /✅ Done: REINDEX CONCURRENTLY of public\.pgbench_branches_pkey done/);
    assert.match(messageText((await t.run('/db', 'reindex pgbench_acounts', { user: DBA })).reply), /There is no table or index "pgbench_acounts".*Did you mean pgbench_accounts\?/s);
  });
});

describe('/db cancel and /db terminate', () => {
  test('cancel stops the query of that session and leaves it connected', async () => {
    const sleeper = await session('sleeper');
    try {
      const sleeping = sleeper.client.query('select pg_sleep(60)').then(() => 'finished', (err: { code?: string }) => err.code);
      await until('the sleep to run', scaled(10_000), () => query<{ state: string }>(url, 'select state from pg_stat_activity where pid = $1', [sleeper.pid]), (r) => r[0]?.state === 'active');
      const { card, ts } = await request(`cancel ${sleeper.pid}`);
      assert.match(messageText(card), new RegExp(`cancel the query of pid ${sleeper.pid} \\(postgres, sleeper, 127\\.0\\.0\\.1\\), active, running .*: select pg_sleep\\(60\\)`));
      assert.match(await final(ts), new RegExp(`✅ Done: The query of pid ${sleeper.pid} was cancelled; the session is now idle`));
      assert.equal(await sleeping, '57014');
      assert.equal((await sleeper.client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await sleeper.client.end();
    }
  });

  test('terminate needs approval and ends that backend only', async () => {
    const victim = await session('victim');
    const bystander = await session('bystander');
    try {
      await victim.client.query('begin');
      await victim.client.query('update pgbench_tellers set tbalance = tbalance + 1 where tid = 1');
      const { reply, card, ts, id } = await request(`terminate ${victim.pid}`);
      assert.match(reply, /Approval requested/);
      assert.match(messageText(card), new RegExp(`end the session pid ${victim.pid} \\(postgres, victim, 127\\.0\\.0\\.1\\), idle in transaction, transaction open`));
      assert.match(messageText(card), /its open transaction is rolled back; victim loses this connection/);
      await sleep(300);
      assert.equal(await count('select count(*)::text as n from pg_stat_activity where pid = $1', [victim.pid]), 1, 'nothing happens before approval');
      await approve(ts, id);
      assert.match(await final(ts), new RegExp(`✅ Done: The session pid ${victim.pid} was ended\\.`));
      assert.equal(await count('select count(*)::text as n from pg_stat_activity where pid = $1', [victim.pid]), 0);
      await assert.rejects(victim.client.query('select 1'));
      assert.equal((await bystander.client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await Promise.allSettled([victim.client.end(), bystander.client.end()]);
    }
  });

  test('a session that ended before the approval is not signalled: its pid may be someone else\'s by then', async () => {
    const gone = await session('gone');
    const { ts, id } = await request(`terminate ${gone.pid}`);
    await gone.client.end();
    await until('the session to end', scaled(10_000), () => count('select count(*)::text as n from pg_stat_activity where pid = $1', [gone.pid]), (n) => n === 0);
    await approve(ts, id);
    assert.match(await final(ts), new RegExp(`precondition failed: The session pid ${gone.pid} has ended`));
  });

  test('the bot refuses its own sessions, other databases\' and unknown pids', async () => {
    assert.match(messageText((await t.run('/db', 'terminate 999999', { user: DBA })).reply), /No session has pid 999999/);
    const other = new pg.Client({ connectionString: url.replace(/\/[^/]+$/, '/postgres') });
    other.on('error', () => {});
    await other.connect();
    try {
      const pid = (await other.query('select pg_backend_pid() as p')).rows[0].p as number;
      assert.match(messageText((await t.run('/db', `cancel ${pid}`, { user: DBA })).reply), new RegExp(`pid ${pid} is connected to postgres, not opsbot_test_`));
    } finally {
      await other.end();
    }
  });
});
