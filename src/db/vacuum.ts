/**
 * `/db vacuum` and `/db analyze` (manual §1.3 每周维护). Plain VACUUM and ANALYZE take a SHARE
 * UPDATE EXCLUSIVE lock, under which the table is read and written as usual: they run at once,
 * as jobs. VACUUM FULL rewrites the table under ACCESS EXCLUSIVE, which stops every query on it,
 * so it waits for approval, needs a table named, and gives up on the lock after db.lock_timeout
 * rather than queue the application behind it.
 */
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import type { Report } from '../core/report.ts';
import { UserError } from '../core/errors.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { databaseSize, estimateMs, lockLine, relationTarget, sizesOf } from './plan.ts';
import { withProgress } from './progress.ts';
import { resolveRelation, shownName, sqlName } from './resolve.ts';
import { executor, pickTarget } from './target.ts';

export type Maintenance = 'vacuum' | 'vacuum_full' | 'analyze';

/** ANALYZE reads a sample of 300 × default_statistics_target (100) pages at most. */
const ANALYZE_SAMPLE_BYTES = 30_000 * 8192;

interface TableStats {
  dead: number;
  live: number;
  bytes: number;
}

async function tableStats(pg: PostgresExecutor, oid: number): Promise<TableStats | undefined> {
  const [r] = await pg.query<{ dead: string; live: string; bytes: string }>(
    `select coalesce(s.n_dead_tup, 0)::text as dead, coalesce(s.n_live_tup, 0)::text as live, pg_total_relation_size(c.oid)::text as bytes
       from pg_class c left join pg_stat_user_tables s on s.relid = c.oid where c.oid = $1`,
    [oid],
  );
  return r ? { dead: Number(r.dead), live: Number(r.live), bytes: Number(r.bytes) } : undefined;
}

/** The statement a plan runs, rebuilt from its target with the driver's quoting. */
function statement(kind: Maintenance, rel: { schema: string; name: string } | undefined): string {
  const verb = kind === 'analyze' ? 'analyze' : kind === 'vacuum_full' ? 'vacuum (full)' : 'vacuum';
  return rel ? `${verb} ${sqlName(rel)}` : verb;
}

const planned = (target: Plan['target']) => (target.oid === null ? undefined : { schema: String(target.schema), name: String(target.name) });

export async function maintenancePlan(ctx: CommandContext<{ table?: string; target?: string }>, kind: Maintenance, usage: readonly UsageLine[]): Promise<Plan> {
  const { config } = ctx;
  const { name, pg } = pickTarget(ctx, usage);
  if (kind === 'vacuum_full' && !ctx.args.table) throw new UserError(msg('db:vacuum.full_needs_table'), { usage });
  const rel = ctx.args.table ? await resolveRelation(pg, ctx.args.table, 'table', usage) : undefined;
  const sql = statement(kind, rel);
  const lock = lockLine(kind === 'vacuum_full' ? 'access_exclusive' : rel ? 'share_update_exclusive' : 'share_update_exclusive_each');
  let summary;
  let estimate;
  if (rel) {
    const [sizes, stats] = await Promise.all([sizesOf(pg, rel.oid), tableStats(pg, rel.oid)]);
    const table = shownName(rel);
    summary = msg(`db:${kind}.plan`, { table, size: sizes.total, dead: stats?.dead ?? 0, rows: sizes.rows });
    const bytes = kind === 'analyze' ? Math.min(sizes.heap, ANALYZE_SAMPLE_BYTES) : kind === 'vacuum_full' ? sizes.heap + sizes.total : sizes.heap + sizes.indexes;
    estimate = msg(`db:${kind}.estimate`, { bytes, ms: estimateMs(config, bytes), free: sizes.total, rate: config.db.estimate_mb_per_second });
  } else {
    const db = await databaseSize(pg);
    summary = msg(`db:${kind}.plan_database`, { database: db.database, size: db.bytes });
    estimate = msg(`db:${kind}.estimate_database`, { bytes: db.bytes, ms: estimateMs(config, db.bytes), rate: config.db.estimate_mb_per_second });
  }
  return {
    summary,
    steps: [sql, lock, estimate],
    risk: kind === 'vacuum_full' ? 'high' : 'low',
    riskNote: kind === 'vacuum_full' ? msg('db:vacuum_full.risk', { ms: config.db.lock_timeout }) : undefined,
    target: { ...relationTarget(name, rel), kind },
  };
}

export async function runMaintenance(ctx: ExecContext, plan: Plan): Promise<Report> {
  const { t, config } = ctx;
  const kind = plan.target.kind as Maintenance;
  const pg = executor(ctx.targets, String(plan.target.target));
  const rel = planned(plan.target);
  const what = rel ? shownName(rel) : t('db:whole_database');
  const oid = Number(plan.target.oid);
  const before = rel ? await tableStats(pg, oid) : undefined;
  await ctx.progress(t(`db:${kind}.progress`, { what }));
  const started = Date.now();
  await withProgress(ctx, pg, kind === 'analyze' ? 'analyze' : kind === 'vacuum_full' ? 'cluster' : 'vacuum', {
    timeoutMs: config.db.maintenance_timeout, lockTimeoutMs: config.db.lock_timeout,
  }, (s) => s.query(statement(kind, rel)));
  const ms = Date.now() - started;
  const after = rel ? await tableStats(pg, oid) : undefined;
  const lines = before && after && kind !== 'analyze'
    ? [t('db:result.dead', { before: t.number(before.dead), after: t.number(after.dead) }), t('db:result.size', { before: before.bytes, after: after.bytes })]
    : [];
  return {
    title: `/db ${kind === 'analyze' ? 'analyze' : 'vacuum'} ${rel ? shownName(rel) : ''}`.trim(),
    status: 'ok',
    summary: t(`db:${kind}.done`, { what, ms }),
    sections: lines.length ? [{ title: t('db:result.title'), lines }] : [],
  };
}
