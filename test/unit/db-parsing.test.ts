/** What /db reads from its text: the read-only check of /db explain, raw and variadic arguments, column lists. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { parseCommandLine } from '../../src/core/args.ts';
import { UserError } from '../../src/core/errors.ts';
import { columnWords } from '../../src/db/resolve.ts';
import { checkReadOnly, StatementRefused } from '../../src/db/statement.ts';
import { slowReport, timeColumns } from '../../src/db/slow.ts';
import { translator } from '../../src/i18n/index.ts';
import type { PostgresExecutor } from '../../src/targets/types.ts';

const refusal = (sql: string): string => {
  try {
    checkReadOnly(sql);
  } catch (err) {
    if (err instanceof StatementRefused) return err.reason.key.replace('db:explain.refused.', '');
    throw err;
  }
  return 'accepted';
};

describe('checkReadOnly', () => {
  test('accepts one read-only query in any of its forms, with a trailing semicolon', () => {
    for (const sql of [
      'select 1', 'SELECT 1;', ' select 1 ;; ', 'values (1), (2)', 'table pgbench_accounts', '(select 1) union (select 2)',
      'with a as (select 1), b(x) as materialized (select 2) select * from a, b',
      'with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) search depth first by n set o select * from r',
      `select ';' as a, $$;drop$$, $tag$ ; delete $tag$, E'\\'; drop', "weird;""name" from t`,
      'select /* ; /* nested ; */ ; */ 1', 'select 1 -- ; drop table x',
      'select "update", "into" from t',
    ]) assert.equal(refusal(sql), 'accepted', sql);
    assert.equal(checkReadOnly('select 1 ;  '), 'select 1');
  });

  test('refuses more than one statement, whatever hides the semicolon', () => {
    assert.equal(refusal('select 1; drop table x'), 'several');
    assert.equal(refusal("select ';'; drop table x"), 'several');
    assert.equal(refusal('select $$a$$; delete from t'), 'several');
    assert.equal(refusal('select 1 /* c */ ; select 2'), 'several');
  });

  test('refuses anything but a query, and queries that write or lock', () => {
    assert.equal(refusal('delete from t'), 'writes');
    assert.equal(refusal('insert into t values (1)'), 'writes');
    assert.equal(refusal('with d as (delete from t returning *) select * from d'), 'writes');
    assert.equal(refusal('with d as not materialized (update t set a = 1 returning *) select 1'), 'writes');
    assert.equal(refusal('with a as (select 1) delete from t'), 'writes');
    assert.equal(refusal('select * from (insert into t values (1) returning *) x'), 'writes');
    assert.equal(refusal('select * into t2 from t'), 'into');
    assert.equal(refusal('select * from t for update'), 'locks');
    assert.equal(refusal('select * from t for no key update'), 'locks');
    assert.equal(refusal('explain analyze delete from t'), 'not_select');
    assert.equal(refusal('vacuum full t'), 'not_select');
    assert.equal(refusal('   '), 'empty');
    assert.equal(refusal('-- only a comment'), 'empty');
  });

  test('refuses unterminated strings, names and comments rather than guess where they end', () => {
    assert.equal(refusal("select 'abc"), 'unterminated_string');
    assert.equal(refusal('select "abc'), 'unterminated_ident');
    assert.equal(refusal('select /* /* */ 1'), 'unterminated_comment');
    assert.equal(refusal('select $x$ abc $y$'), 'unterminated_string');
  });
});

describe('arguments', () => {
  const explainSpec = { schema: z.object({ statement: z.string().optional(), analyze: z.boolean().default(false), target: z.string().optional() }), positionals: [], usage: [], raw: 'statement' };

  test('raw: the text stays as typed; known flags come off its start and end', () => {
    const p = parseCommandLine(`select "A b", 'x  y' from t where a <> '--analyze' --analyze --target=main`, explainSpec);
    assert.deepEqual(p.values, { statement: `select "A b", 'x  y' from t where a <> '--analyze'`, analyze: true, target: 'main' });
    assert.deepEqual(parseCommandLine('--target main --analyze select 1', explainSpec).values, { statement: 'select 1', analyze: true, target: 'main' });
    assert.deepEqual(parseCommandLine('select 1 --target main', explainSpec).values, { statement: 'select 1', analyze: false, target: 'main' });
    // An SQL comment is not a flag of ours.
    assert.deepEqual(parseCommandLine('select 1 -- note', explainSpec).values, { statement: 'select 1 -- note', analyze: false });
    assert.throws(() => parseCommandLine('select 1 --analyze=yes', explainSpec), UserError);
  });

  test('variadic: the last positional takes the remaining words', () => {
    const spec = { schema: z.object({ table: z.string(), columns: z.array(z.string()).min(1), unique: z.boolean().default(false) }), positionals: ['table', 'columns'], usage: [], variadic: true };
    const p = parseCommandLine('"Order Items" ("Item Id", qty) --unique', spec);
    assert.deepEqual(p.values, { table: 'Order Items', columns: ['(Item Id,', 'qty)'], unique: true });
    assert.deepEqual(columnWords(['(Item Id,', 'qty)']), ['Item Id', 'qty']);
    assert.deepEqual(columnWords(['(a,b)']), ['a', 'b']);
    assert.deepEqual(columnWords(['a', ',', 'b']), ['a', 'b']);
    assert.throws(() => parseCommandLine('orders', spec), UserError);
  });
});

describe('/db slow', () => {
  test('the time column follows the server version: total_exec_time from 13, total_time before', () => {
    assert.deepEqual(timeColumns(120011), { total: 'total_time', mean: 'mean_time' });
    assert.deepEqual(timeColumns(130000), { total: 'total_exec_time', mean: 'mean_exec_time' });
    assert.deepEqual(timeColumns(170002), { total: 'total_exec_time', mean: 'mean_exec_time' });
  });

  /** A server without the extension, whose shared_preload_libraries holds `preload`. */
  const bare = (preload: string): PostgresExecutor => ({
    name: 'main', where: 'db:5432/app',
    health: async () => assert.fail('not used'),
    session: async () => assert.fail('not used'),
    close: async () => {},
    query: async <R>(sql: string) => {
      if (sql.includes('server_version_num')) return [{ num: '150004', version: '15.4', database: 'app' }] as R[];
      if (sql.includes('pg_extension')) return [{ version: null }] as R[];
      if (sql.includes('shared_preload_libraries')) return [{ v: preload }] as R[];
      return assert.fail(sql);
    },
  });

  test('without the library or the extension: the preload line keeps what is there, then restart, then CREATE EXTENSION', async () => {
    const report = await slowReport(translator('en'), bare('auto_explain'), 'main', 10);
    const lines = report.sections![0].lines;
    assert.equal(lines[0], "1. In postgresql.conf set shared_preload_libraries = 'auto_explain, pg_stat_statements' (now: auto_explain; keep what is there).");
    assert.match(lines[1], /^2\. Restart PostgreSQL/);
    assert.equal(lines[2], '3. As a superuser, in database app: CREATE EXTENSION pg_stat_statements;');
    const zh = await slowReport(translator('zh-CN'), bare(''), 'main', 10);
    assert.match(zh.sections![0].lines[0], /shared_preload_libraries = 'pg_stat_statements'（当前：空/);
  });
});
