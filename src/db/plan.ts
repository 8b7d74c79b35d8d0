/**
 * What a maintenance card shows before anyone approves: the lock a statement takes, what it
 * costs, estimated from the relation's size, and the facts a run re-checks (the same relation,
 * not one recreated under the same name since).
 */
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import { msg, type Msg } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { executor } from './target.ts';
import { shownName, type Relation } from './resolve.ts';

export interface Sizes {
  /** The table itself without TOAST, or the index. */
  heap: number;
  indexes: number;
  toast: number;
  total: number;
  rows: number;
  indexCount: number;
}

/** The sizes of a table (or of an index's table, with `index` the index's own size). */
export async function sizesOf(pg: PostgresExecutor, oid: number): Promise<Sizes> {
  const [r] = await pg.query<{ heap: string; indexes: string; toast: string; total: string; rows: string; n: number }>(
    `select (pg_table_size(c.oid) - coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0))::text as heap,
            pg_indexes_size(c.oid)::text as indexes,
            coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::text as toast,
            pg_total_relation_size(c.oid)::text as total, greatest(c.reltuples, 0)::bigint::text as rows,
            (select count(*)::int from pg_index i where i.indrelid = c.oid) as n
       from pg_class c where c.oid = $1`,
    [oid],
  );
  if (!r) throw new UserError(msg('db:plan.gone', { oid }));
  return { heap: Number(r.heap), indexes: Number(r.indexes), toast: Number(r.toast), total: Number(r.total), rows: Number(r.rows), indexCount: r.n };
}

/** The whole database's size, for statements without a table. */
export async function databaseSize(pg: PostgresExecutor): Promise<{ database: string; bytes: number }> {
  const [r] = await pg.query<{ database: string; bytes: string }>(`select current_database() as database, pg_database_size(current_database())::text as bytes`);
  return { database: r.database, bytes: Number(r.bytes) };
}

/** Milliseconds to move `bytes` at the configured rate: the cards' estimates, never a promise. */
export const estimateMs = (config: Config, bytes: number) => Math.max(1000, Math.round((bytes / (config.db.estimate_mb_per_second * 1024 * 1024)) * 1000));

/** The lock line of a card: the lock's name is PostgreSQL's, what it blocks is said in words. */
export const lockLine = (lock: 'share_update_exclusive' | 'share_update_exclusive_each' | 'access_exclusive'): Msg => msg(`db:lock.${lock}`);

/** The relation of a plan, as the run finds it: refused when it was dropped, renamed or recreated since. */
export async function samePlanRelation(ctx: Pick<ExecContext, 'targets'>, target: Record<string, unknown>): Promise<Msg | undefined> {
  if (target.oid === null || target.oid === undefined) return undefined;
  const pg = executor(ctx.targets, String(target.target));
  const [r] = await pg.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = $1`,
    [Number(target.oid)],
  );
  const planned = { schema: String(target.schema), name: String(target.name) };
  if (!r) return msg('db:precheck.gone', { name: shownName(planned) });
  if (r.schema !== planned.schema || r.name !== planned.name) return msg('db:precheck.renamed', { name: shownName(planned), now: shownName(r) });
  return undefined;
}

/** The plan's machine data about a relation: enough to find it again by OID and check it is the same. */
export function relationTarget(target: string, rel: Relation | undefined): Record<string, string | number | null> {
  return {
    target,
    oid: rel?.oid ?? null,
    schema: rel?.schema ?? null,
    name: rel?.name ?? null,
    // One maintenance run per relation (or per database) at a time, across replicas.
    lock: `db:${target}:${rel ? rel.oid : 'database'}`,
  };
}
