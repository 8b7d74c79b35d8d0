/**
 * /db's reports against a real PostgreSQL with pg_stat_statements preloaded: sizes, slow queries
 * (and the advice when the extension is missing), sessions with a real lock queue, dead tuples,
 * unused indexes and sequential scans, and EXPLAIN's three checks.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { query } from '../helpers/sql.ts';
import { scaled, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const DBA = 'U0DBA';
/** A table name that needs quoting three ways: a quote, a space, and CJK. */
const ODD = 'Order "Items" 订单';
const oddSql = `"${ODD.replace(/"/g, '""')}"`;

let t: TestBot;
let url: string;
let bareUrl: string;

before(async () => {
  const server = await sharedPostgres();
  url = await server.createDatabase();
  bareUrl = await server.createDatabase();
  await pgbenchInit(url, 1);
  await query(url, 'create extension if not exists pg_stat_statements');
  await query(url, `create table ${oddSql} (id int primary key, "Item Name" text)`);
  await query(url, `insert into ${oddSql} select g, 'item ' || g from generate_series(1, 500) g`);
  t = await startTestBot({
    targets: { local: false, postgres: { main: { url }, bare: { url: bareUrl }, down: { url: 'postgres://postgres@127.0.0.1:1/none' } } },
    db: { target: 'main' },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { operator: [OPER], dba: [DBA] },
    permissions: { db: ['operator', 'dba'] },
  });
});
after(async () => {
  await t?.close();
});

/** The reply's text for /db <text>, as `user` in `channel`. */
async function db(text: string, user = OPER, channel = 'C0OPS'): Promise<string> {
  const { ack, reply } = await t.run('/db', text, { user, channel });
  assert.equal(ack.status, 200);
  return messageText(reply);
}

describe('/db reports', () => {
  test('/db alone lists what the caller may run; someone without the role is refused', async () => {
    const list = await db('');
    assert.match(list, /The \/db commands you may run here/);
    for (const sub of ['sizes', 'slow', 'activity', 'bloat', 'indexes', 'explain']) assert.match(list, new RegExp(`/db ${sub}`));
    const denied = await db('sizes', 'U0NOBODY');
    assert.match(denied, /\/db sizes needs one of the roles operator or dba/);
    const typo = await db('sizs');
    assert.match(typo, /Unknown \/db command "sizs".*Did you mean \/db sizes\?/s);
  });

  test('a server that cannot be reached is said so, and an unknown target gets a did-you-mean', async () => {
    assert.match(await db('sizes --target down'), /The database cannot be reached: .*ECONNREFUSED/);
    assert.match(await db('sizes --target mian'), /Unknown PostgreSQL target "mian" \(configured: main, bare, and down\)\. Did you mean --target main\?/);
  });

  test('/db sizes: the database and its biggest tables with heap, index and TOAST sizes', async () => {
    const text = await db('sizes --limit 3');
    assert.match(text, /Database opsbot_test_\w+: [\d.]+ MB in 5 tables\./);
    assert.match(text, /total\s+table\s+indexes\s+TOAST\s+rows≈\s+of db\s+name/);
    const first = text.split('\n').find((l) => l.includes('public.pgbench_accounts'));
    assert.ok(first, text);
    assert.match(first!, /^\s*[\d.]+ MB\s+[\d.]+ MB\s+[\d.]+ MB\s+\S+ (byte|kB)\s+100,000\s+\d+%\s+public\.pgbench_accounts$/);
    assert.equal(text.split('\n').filter((l) => /public\./.test(l)).length, 3);
  });

  test('/db slow reads pg_stat_statements with the column of the server version', async () => {
    for (let i = 0; i < 3; i++) await query(url, 'select count(*) from pgbench_accounts where abalance > $1', [i]);
    const [{ num }] = await query<{ num: string }>(url, `select current_setting('server_version_num') as num`);
    const column = Number(num) >= 130000 ? 'total_exec_time' : 'total_time';
    const text = await until('slow', scaled(10_000), () => db('slow --limit 5'), (s) => /pgbench_accounts where abalance/.test(s));
    assert.match(text, new RegExp(`ordered by ${column}`));
    assert.match(text, /#1\s+total \S+.* calls · mean [\d.]+ ms · [\d.]+% of the time/);
    assert.match(text, /select count\(\*\) from pgbench_accounts where abalance > \$1/);
  });

  test('/db slow without the extension says exactly how to enable it', async () => {
    const text = await db('slow --target bare');
    const database = new URL(bareUrl).pathname.slice(1);
    assert.match(text, new RegExp(`pg_stat_statements is not installed in ${database}`));
    // The harness's server preloads the library already: only the missing step is asked for.
    assert.match(text, new RegExp(`1\\. As a superuser, in database ${database}: CREATE EXTENSION pg_stat_statements;`));
    assert.doesNotMatch(text, /shared_preload_libraries/);
  });

  test('/db activity: an idle transaction blocks an update; the report names both, blocker first in line', async () => {
    const holder = new pg.Client({ connectionString: url, application_name: 'holder' });
    const waiter = new pg.Client({ connectionString: url, application_name: 'waiter' });
    holder.on('error', () => {});
    waiter.on('error', () => {});
    await Promise.all([holder.connect(), waiter.connect()]);
    try {
      await holder.query('begin');
      await holder.query('update pgbench_accounts set abalance = abalance + 1 where aid = 1');
      const holderPid = (await holder.query('select pg_backend_pid() as p')).rows[0].p as number;
      const waiterPid = (await waiter.query('select pg_backend_pid() as p')).rows[0].p as number;
      const blocked = waiter.query('update pgbench_accounts set abalance = abalance - 1 where aid = 1').catch(() => {});
      await until('the update to wait', scaled(10_000), () => query<{ n: number }>(url, 'select cardinality(pg_blocking_pids($1)) as n', [waiterPid]), (r) => r[0].n > 0);
      const text = await db('activity');
      assert.match(text, /waiting for a lock\./);
      assert.match(text, new RegExp(`⏳ pid ${waiterPid} \\(postgres, waiter\\) has waited .*Lock:transactionid.*update pgbench_accounts set abalance = abalance - 1`));
      assert.match(text, new RegExp(`← blocked by pid ${holderPid} \\(postgres, holder\\), idle in transaction, transaction open`));
      assert.match(text, new RegExp(`Idle in a transaction \\(1\\)[\\s\\S]*?pid ${holderPid} \\(postgres, holder\\): transaction open`));
      assert.match(text, new RegExp(`At the head of the queue: pid ${holderPid}\\. /db cancel ${holderPid}`));
      await holder.query('rollback');
      await blocked;
    } finally {
      await Promise.allSettled([holder.end(), waiter.end()]);
    }
    const calm = await db('activity');
    assert.match(calm, /No session waits for a lock\./);
  });

  test('/db bloat: deleted rows show as dead tuples, graded, with the last vacuum', async () => {
    await query(url, 'create table churn (id int primary key, v text) with (autovacuum_enabled = false)');
    await query(url, `insert into churn select g, md5(g::text) from generate_series(1, 10000) g`);
    await query(url, 'delete from churn where id <= 6000');
    await until('dead tuples counted', scaled(10_000), () => query<{ n: string }>(url, `select n_dead_tup::text as n from pg_stat_user_tables where relname = 'churn'`), (r) => Number(r[0]?.n) >= 6000);
    const text = await db('bloat --limit 3');
    assert.match(text, /1 table has dead tuples at or above 10% of its rows/);
    assert.match(text, /❌ public\.churn: 6,000 dead \/ 4,000 live \(60%\), [\d.]+ kB · vacuum never, autovacuum never/);
    assert.match(text, /\/db vacuum public\.churn reclaims them/);
    const zh = await db('bloat --limit 3', OPER, 'C0ZH');
    assert.match(zh, /public\.churn：死元组 6,000 \/ 活元组 4,000（60%）/);
  });

  test('/db indexes: an index never scanned, a table read by sequential scans, and an invalid index', async () => {
    await query(url, 'create index accounts_abalance on pgbench_accounts (abalance)');
    await query(url, 'create table events as select g as id, md5(g::text) as v from generate_series(1, 20000) g');
    await query(url, 'analyze events');
    for (let i = 0; i < 3; i++) await query(url, `select count(*) from events where v = 'x'`);
    await query(url, 'create table dup (v int)');
    await query(url, 'insert into dup values (1), (1)');
    await query(url, 'create unique index concurrently dup_v on dup (v)').catch(() => {});
    await until('seq scans counted', scaled(10_000), () => query<{ n: string }>(url, `select seq_scan::text as n from pg_stat_user_tables where relname = 'events'`), (r) => Number(r[0]?.n) >= 3);
    const text = await db('indexes');
    assert.match(text, /public\.accounts_abalance on pgbench_accounts: [\d.]+ (kB|MB)/);
    assert.match(text, /public\.events: [3-9] seq scans read [\d,]+ rows \([\d,]+ a scan\), 0 index scans · 20,000 rows/);
    assert.match(text, /Invalid indexes, left by a failed concurrent build \(1\)[\s\S]*?public\.dup_v on dup/);
    assert.doesNotMatch(text, /pgbench_accounts_pkey/);
  });
});

describe('/db explain', () => {
  test('a SELECT: costliest steps first, the whole plan uploaded as JSON', async () => {
    const before = t.fake.calls.length;
    const text = await db('explain select * from pgbench_accounts a join pgbench_branches b using (bid) where a.abalance = 7 and a.bid &lt; 5');
    assert.match(text, /Estimated total cost [\d,.]+ for [\d,]+ rows\. The query was planned, not run\./);
    assert.match(text, /1\. (Seq Scan|Index Scan using accounts_abalance|Bitmap Heap Scan) on pgbench_accounts a: cost/);
    assert.match(text, /a\.bid &lt; 5|a\.bid < 5|bid < 5/);
    await t.fake.waitFor((c) => t.fake.calls.indexOf(c) > before && c.method === 'files.completeUploadExternal');
    const upload = t.fake.uploads().at(-1)!;
    assert.equal(upload.filename, 'plan.json');
    const plan = JSON.parse(upload.bytes!.toString('utf8'));
    assert.ok(plan[0].Plan['Node Type'], 'EXPLAIN (FORMAT JSON) output');
  });

  test('refuses several statements, writes, a writing WITH, SELECT INTO and row locks, before the server runs anything', async () => {
    const cases: Array<[string, RegExp]> = [
      ['SELECT 1; DROP TABLE pgbench_history', /Only one statement is accepted/],
      ['DELETE FROM pgbench_history', /The statement writes \(DELETE\)/],
      ['with d as (delete from pgbench_tellers returning *) select count(*) from d', /The statement writes \(DELETE\)/],
      ['select * into stolen from pgbench_branches', /SELECT … INTO creates a table/],
      ['select * from pgbench_branches for update', /FOR UPDATE \/ FOR SHARE locks rows/],
      ["select ';' ; drop table x", /Only one statement/],
      ['vacuum pgbench_accounts', /Only a SELECT, WITH … SELECT, VALUES or TABLE is accepted, not "VACUUM"/],
    ];
    for (const [sql, re] of cases) assert.match(await db(`explain ${sql}`, DBA), re, sql);
    assert.equal((await query<{ n: string }>(url, 'select count(*)::text as n from pgbench_tellers'))[0].n, '10');
    assert.equal((await query(url, `select 1 from pg_class where relname = 'stolen'`)).length, 0);
  });

  test('--analyze needs the dba role; it runs read-only and rolls back, so a writing function changes nothing', async () => {
    await query(url, 'create table audit_trail (n int)');
    await query(url, `create function bump() returns int language sql as 'insert into audit_trail values (1) returning 1'`);
    assert.match(await db('explain select bump() --analyze', OPER), /--analyze runs the query, so it needs the role dba/);
    const refused = await db('explain select bump() --analyze', DBA);
    assert.match(refused, /The statement tried to write and the read-only transaction refused it: cannot execute INSERT in a read-only transaction/);
    assert.equal((await query(url, 'select * from audit_trail')).length, 0);
    // A writing WITH is refused from the plan (or the text) even with --analyze: nothing is deleted.
    assert.match(await db('explain --analyze with d as (delete from pgbench_tellers returning *) select count(*) from d', DBA), /writes \(DELETE\)/);
    assert.equal((await query<{ n: string }>(url, 'select count(*)::text as n from pgbench_tellers'))[0].n, '10');
    const ran = await db(`explain select count(*) from ${oddSql} where "Item Name" like 'item 1%' --analyze`, DBA);
    assert.match(ran, /Run read-only and rolled back: [\d.]+ ms to execute/);
    assert.match(ran, /rows × 1 loops/);
  });

  test('a statement the server refuses is shown with its message; the plan of a table with an odd name', async () => {
    assert.match(await db('explain select * from no_such_table'), /PostgreSQL refused it: relation "no_such_table" does not exist \(SQLSTATE 42P01\)/);
    const text = await db(`explain select * from ${oddSql}`);
    assert.match(text, new RegExp(`Seq Scan on ${ODD.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
