/**
 * `/db reindex` (manual §1.3 重建索引). The manual's REINDEX DATABASE locks every table against
 * writes, and every index against reads, while it rebuilds. REINDEX CONCURRENTLY builds a copy
 * of each index beside it and swaps it in, under a lock that lets reads and writes go on; a
 * database is done table by table, so Stop takes effect between tables as well as within one.
 */
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError, readerMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { buildOrCleanUp, invalidOn } from './build.ts';
import { databaseSize, estimateMs, lockLine, relationTarget, sizesOf } from './plan.ts';
import { withProgress } from './progress.ts';
import { resolveRelation, shownName, sqlName } from './resolve.ts';
import { executor, pickTarget, server } from './target.ts';

interface Table {
  oid: string;
  schema: string;
  name: string;
  heap: string;
  indexes: string;
}

/** Tables with indexes, smallest first, so a Stop midway has done the most tables it could. */
async function tablesWithIndexes(pg: PostgresExecutor): Promise<Table[]> {
  return pg.query<Table>(
    `select c.oid::text as oid, n.nspname as schema, c.relname as name, pg_table_size(c.oid)::text as heap, pg_indexes_size(c.oid)::text as indexes
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        and exists (select 1 from pg_index i where i.indrelid = c.oid)
      order by pg_indexes_size(c.oid), 2, 3`,
  );
}

export async function reindexPlan(ctx: CommandContext<{ what: string; target?: string }>, usage: readonly UsageLine[]): Promise<Plan> {
  const { config } = ctx;
  const { name, pg } = pickTarget(ctx, usage);
  const srv = await server(pg);
  if (srv.num < 120000) throw new UserError(msg('db:reindex.too_old', { version: srv.version }));
  const cleanup = msg('db:reindex.step_cleanup');
  if (ctx.args.what.toLowerCase() === 'database') {
    const [tables, db] = await Promise.all([tablesWithIndexes(pg), databaseSize(pg)]);
    const indexes = tables.reduce((n, x) => n + Number(x.indexes), 0);
    const bytes = tables.reduce((n, x) => n + 2 * Number(x.heap) + Number(x.indexes), 0);
    return {
      summary: msg('db:reindex.plan_database', { database: db.database, tables: tables.length, size: indexes }),
      // i18n-exempt: the statement that runs, once per table
      steps: ['reindex table concurrently …', lockLine('share_update_exclusive_each'), msg('db:reindex.estimate', { bytes, ms: estimateMs(config, bytes), free: Math.max(0, ...tables.map((x) => Number(x.indexes))), rate: config.db.estimate_mb_per_second }), cleanup],
      risk: 'medium',
      riskNote: msg('db:reindex.risk'),
      target: { ...relationTarget(name, undefined), kind: 'database', tables: tables.length },
    };
  }
  const rel = await resolveRelation(pg, ctx.args.what, 'any', usage);
  const isIndex = rel.relkind === 'i' || rel.relkind === 'I';
  const [{ table }] = isIndex ? await pg.query<{ table: string }>(`select indrelid::text as table from pg_index where indexrelid = $1`, [rel.oid]) : [{ table: String(rel.oid) }];
  const sizes = await sizesOf(pg, Number(table));
  const [own] = isIndex ? await pg.query<{ bytes: string }>(`select pg_relation_size($1::oid)::text as bytes`, [rel.oid]) : [{ bytes: String(sizes.indexes) }];
  const indexBytes = Number(own.bytes);
  const bytes = 2 * sizes.heap * (isIndex ? 1 : Math.max(1, sizes.indexCount)) + indexBytes;
  return {
    summary: msg(isIndex ? 'db:reindex.plan_index' : 'db:reindex.plan_table', { name: shownName(rel), size: indexBytes, count: sizes.indexCount }),
    steps: [`reindex ${isIndex ? 'index' : 'table'} concurrently ${sqlName(rel)}`, lockLine('share_update_exclusive'), msg('db:reindex.estimate', { bytes, ms: estimateMs(config, bytes), free: indexBytes, rate: config.db.estimate_mb_per_second }), cleanup],
    risk: 'medium',
    riskNote: msg('db:reindex.risk'),
    target: { ...relationTarget(name, rel), kind: isIndex ? 'index' : 'table', table: Number(table) },
  };
}

export async function runReindex(ctx: ExecContext, plan: Plan): Promise<Report> {
  const { t, config } = ctx;
  const pg = executor(ctx.targets, String(plan.target.target));
  const kind = String(plan.target.kind);
  const started = Date.now();
  const reindex = (what: 'index' | 'table', rel: { schema: string; name: string }, table: number, prefix?: string) =>
    buildOrCleanUp(ctx, pg, { table }, () =>
      withProgress(ctx, pg, 'create_index', { timeoutMs: config.db.maintenance_timeout, prefix }, (s) => s.query(`reindex ${what} concurrently ${sqlName(rel)}`)));
  if (kind !== 'database') {
    const rel = { schema: String(plan.target.schema), name: String(plan.target.name) };
    const table = Number(plan.target.table);
    const before = (await sizesOf(pg, table)).indexes;
    await ctx.progress(t('db:reindex.progress', { name: shownName(rel) }));
    await reindex(kind === 'index' ? 'index' : 'table', rel, table);
    const after = (await sizesOf(pg, table)).indexes;
    return {
      // i18n-exempt: the command's name
      title: `/db reindex ${shownName(rel)}`,
      status: 'ok',
      summary: t('db:reindex.done', { name: shownName(rel), ms: Date.now() - started }),
      sections: [{ title: t('db:result.title'), lines: [t('db:result.index_size', { before, after })] }],
    };
  }
  const tables = await tablesWithIndexes(pg);
  await ctx.progress(t('db:reindex.progress_database', { count: tables.length }));
  const failed: string[] = [];
  let done = 0;
  for (const [i, x] of tables.entries()) {
    // Stop between tables: the ones done stay done, and no new build starts.
    if (ctx.signal.aborted) break;
    const prefix = t('db:reindex.table_of', { n: i + 1, count: tables.length, name: shownName(x) });
    ctx.status(prefix);
    try {
      await reindex('table', x, Number(x.oid), prefix);
      done++;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      failed.push(`${shownName(x)}: ${readerMessage(t, err)}`);
    }
  }
  if (ctx.signal.aborted) throw new UserError(t('db:reindex.stopped_between', { done, count: tables.length }));
  return {
    // i18n-exempt: the command's name
    title: '/db reindex database',
    status: failed.length ? 'warn' : 'ok',
    summary: t(failed.length ? 'db:reindex.done_database_failed' : 'db:reindex.done_database', { done, count: tables.length, failed: failed.length, ms: Date.now() - started }),
    sections: failed.length ? [{ title: t('db:reindex.failed_title'), lines: failed }] : [],
  };
}

/**
 * After an interrupted run: the invalid indexes a build may have left (on the plan's table, or for
 * a database REINDEX's `_ccnew`/`_ccold` copies anywhere), for the card to name. It only reads.
 */
export async function leftAfter(ctx: Pick<ExecContext, 'targets' | 't'>, plan: Plan): Promise<{ summary: string; lines: string[] }> {
  const pg = executor(ctx.targets, String(plan.target.target));
  const table = Number(plan.target.table ?? plan.target.oid ?? 0);
  const left = table > 0
    ? await invalidOn(pg, table)
    : await pg.query<{ schema: string; name: string }>(
        `select n.nspname as schema, c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
          where not i.indisvalid and c.relname ~ '_cc(new|old)[0-9]*$'`,
      );
  return left.length
    ? { summary: ctx.t('db:interrupted.left', { names: left.map(shownName) }), lines: left.map((i) => `drop index concurrently ${sqlName(i)};`) }
    : { summary: ctx.t('db:interrupted.clean'), lines: [] };
}
