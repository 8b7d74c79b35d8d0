/**
 * `/db index create` (manual §3.1 创建索引). The manual's plain CREATE INDEX blocks every write
 * to the table while it builds. CREATE INDEX CONCURRENTLY lets writes go on; a build that fails
 * (a duplicate for a unique index) or is stopped leaves an invalid index behind, which is dropped.
 */
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type Msg } from '../i18n/index.ts';
import { quoteIdent } from '../targets/postgres.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { buildOrCleanUp } from './build.ts';
import { estimateMs, lockLine, relationTarget, samePlanRelation, sizesOf } from './plan.ts';
import { withProgress } from './progress.ts';
import { columnWords, resolveColumns, resolveRelation, shownName, sqlName } from './resolve.ts';
import { executor, pickTarget } from './target.ts';

/** PostgreSQL keeps the first 63 bytes of a name (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;

/** `orders_tenant_id_created_at_idx`, cut to what PostgreSQL keeps, on a character boundary. */
export function defaultIndexName(table: string, columns: string[]): string {
  const suffix = '_idx';
  let base = `${table}_${columns.join('_')}`;
  while (Buffer.byteLength(base + suffix) > MAX_NAME_BYTES) base = [...base].slice(0, -1).join('');
  return base + suffix;
}

function statement(t: { schema: string; name: string }, index: string, columns: string[], unique: boolean): string {
  return `create ${unique ? 'unique ' : ''}index concurrently ${quoteIdent(index)} on ${sqlName(t)} (${columns.map(quoteIdent).join(', ')})`;
}

async function nameTaken(pg: PostgresExecutor, schema: string, name: string): Promise<boolean> {
  return (await pg.query(`select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`, [schema, name])).length > 0;
}

/** A valid index on exactly these columns, if there is one: the new one may be a duplicate. */
async function sameColumns(pg: PostgresExecutor, table: number, columns: string[]): Promise<string | undefined> {
  const [r] = await pg.query<{ name: string }>(
    `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = $1 and i.indisvalid and i.indexprs is null and i.indpred is null
        and (select array_agg(a.attname::text order by k.ord) from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) = $2::text[]
      limit 1`,
    [table, columns],
  );
  return r?.name;
}

export interface CreateIndexArgs {
  table: string;
  columns: string[];
  unique: boolean;
  name?: string;
  target?: string;
}

export async function createIndexPlan(ctx: CommandContext<CreateIndexArgs>, usage: readonly UsageLine[]): Promise<Plan> {
  const { config, args } = ctx;
  const { name: target, pg } = pickTarget(ctx, usage);
  const rel = await resolveRelation(pg, args.table, 'table', usage);
  if (rel.relkind === 'p') throw new UserError(msg('db:index_create.partitioned', { table: shownName(rel) }));
  const words = columnWords(args.columns);
  if (!words.length) throw new UserError(msg('db:index_create.no_columns'), { usage });
  const columns = await resolveColumns(pg, rel, words, usage);
  const index = args.name ?? defaultIndexName(rel.name, columns);
  if (Buffer.byteLength(index) > MAX_NAME_BYTES) throw new UserError(msg('db:index_create.name_too_long', { name: index, max: MAX_NAME_BYTES }), { usage });
  if (await nameTaken(pg, rel.schema, index)) throw new UserError(msg('db:index_create.name_taken', { name: shownName({ schema: rel.schema, name: index }) }), { usage });
  const [sizes, twin] = await Promise.all([sizesOf(pg, rel.oid), sameColumns(pg, rel.oid, columns)]);
  // Two passes over the table, the second after every older transaction has ended.
  const bytes = 2 * sizes.heap;
  const riskNote: Msg = twin ? msg('db:index_create.twin', { twin }) : msg('db:index_create.risk');
  return {
    summary: msg(args.unique ? 'db:index_create.plan_unique' : 'db:index_create.plan', { index, table: shownName(rel), columns, size: sizes.total, rows: sizes.rows }),
    steps: [statement(rel, index, columns, args.unique), lockLine('share_update_exclusive'), msg('db:index_create.estimate', { bytes, ms: estimateMs(config, bytes), rate: config.db.estimate_mb_per_second }), msg('db:index_create.step_cleanup', { index })],
    risk: 'medium',
    riskNote,
    target: { ...relationTarget(target, rel), index, columns: JSON.stringify(columns), unique: args.unique },
  };
}

/** The table is the one approved, and the name is still free. */
export async function createIndexPrecheck(ctx: ExecContext, plan: Plan): Promise<Msg | undefined> {
  const moved = await samePlanRelation(ctx, plan.target);
  if (moved) return moved;
  const pg = executor(ctx.targets, String(plan.target.target));
  const schema = String(plan.target.schema);
  const index = String(plan.target.index);
  return (await nameTaken(pg, schema, index)) ? msg('db:index_create.name_taken', { name: shownName({ schema, name: index }) }) : undefined;
}

export async function runCreateIndex(ctx: ExecContext, plan: Plan): Promise<Report> {
  const { t, config } = ctx;
  const pg = executor(ctx.targets, String(plan.target.target));
  const rel = { schema: String(plan.target.schema), name: String(plan.target.name) };
  const index = String(plan.target.index);
  const columns = JSON.parse(String(plan.target.columns)) as string[];
  const started = Date.now();
  await ctx.progress(t('db:index_create.progress', { index, table: shownName(rel) }));
  await buildOrCleanUp(ctx, pg, { table: Number(plan.target.oid), creating: { schema: rel.schema, name: index } }, () =>
    withProgress(ctx, pg, 'create_index', { timeoutMs: config.db.maintenance_timeout }, (s) => s.query(statement(rel, index, columns, plan.target.unique === true))));
  const [r] = await pg.query<{ bytes: string }>(`select pg_relation_size(to_regclass($1))::text as bytes`, [`${quoteIdent(rel.schema)}.${quoteIdent(index)}`]);
  return {
    // i18n-exempt: the command's name
    title: `/db index create ${shownName(rel)}`,
    status: 'ok',
    summary: t('db:index_create.done', { index: shownName({ schema: rel.schema, name: index }), size: Number(r?.bytes ?? 0), ms: Date.now() - started }),
  };
}
