/**
 * Concurrent index builds (CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY) and what they leave
 * when they fail or are stopped: an invalid index that every write keeps up to date and no query
 * uses. It is found by name (the index being created, or REINDEX's `_ccnew`/`_ccold` copies) and
 * dropped with DROP INDEX CONCURRENTLY, never another session's build that happens to be invalid
 * while it runs.
 */
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage, readerMessage } from '../core/errors.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { serverError } from './errors.ts';
import { shownName, sqlName } from './resolve.ts';

export interface IndexName {
  schema: string;
  name: string;
}

const key = (i: IndexName) => `${i.schema}\u0000${i.name}`;

/** The table and its TOAST table: REINDEX TABLE rebuilds the TOAST table's index too. */
async function withToast(pg: PostgresExecutor, table: number): Promise<number[]> {
  const [r] = await pg.query<{ toast: string }>(`select reltoastrelid::text as toast from pg_class where oid = $1`, [table]);
  return r && r.toast !== '0' ? [table, Number(r.toast)] : [table];
}

/** Invalid indexes on these tables. */
async function invalid(pg: PostgresExecutor, tables: number[]): Promise<IndexName[]> {
  return pg.query<IndexName>(
    `select n.nspname as schema, c.relname as name from pg_index i
       join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where not i.indisvalid and i.indrelid = any($1::oid[])`,
    [tables],
  );
}

/** The indexes of these tables, by name: what REINDEX's copies are named after. */
async function indexNames(pg: PostgresExecutor, tables: number[]): Promise<string[]> {
  return (await pg.query<{ name: string }>(`select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = any($1::oid[])`, [tables])).map((r) => r.name);
}

/** REINDEX CONCURRENTLY names its copies <index>_ccnew and <index>_ccold, with a number when taken. */
const reindexCopy = (originals: string[]) => (name: string) => {
  const m = /^(.*)_cc(new|old)\d*$/.exec(name);
  return !!m && originals.includes(m[1]);
};

export interface BuildTarget {
  /** The table whose indexes are built. */
  table: number;
  /** The index being created, or undefined for REINDEX (whose copies are recognised by name). */
  creating?: IndexName;
}

/**
 * Runs a concurrent build. When it fails or is stopped, the invalid indexes it left are dropped
 * (on a connection of their own, which Stop does not cancel) and the error says which.
 */
export async function buildOrCleanUp<R>(ctx: Pick<ExecContext, 't' | 'log'> & { config: Config }, pg: PostgresExecutor, what: BuildTarget, run: () => Promise<R>): Promise<R> {
  const tables = await withToast(pg, what.table);
  const ours = what.creating ? ((n: string) => n === what.creating!.name) : reindexCopy(await indexNames(pg, tables));
  const before = new Set((await invalid(pg, tables)).map(key));
  try {
    return await run();
  } catch (err) {
    const reason = serverError(err);
    const left = (await invalid(pg, tables).catch(() => [])).filter((i) => ours(i.name) && !before.has(key(i)));
    if (!left.length) throw reason;
    const { dropped, failed } = await dropIndexes(ctx, pg, left);
    const text = readerMessage(ctx.t, reason);
    const notes = [
      dropped.length ? ctx.t('db:build.dropped', { names: dropped.map(shownName) }) : '',
      failed.length ? ctx.t('db:build.not_dropped', { names: failed.map(shownName) }) : '',
    ].filter(Boolean);
    throw new UserError(`${text} ${notes.join(' ')}`);
  }
}

/** DROP INDEX CONCURRENTLY, one by one; what could not be dropped is reported, not thrown. */
export async function dropIndexes(ctx: Pick<ExecContext, 'log'> & { config: Config }, pg: PostgresExecutor, indexes: IndexName[]): Promise<{ dropped: IndexName[]; failed: IndexName[] }> {
  const dropped: IndexName[] = [];
  const failed: IndexName[] = [];
  await pg.session(async (s) => {
    for (const i of indexes) {
      try {
        await s.query(`drop index concurrently if exists ${sqlName(i)}`);
        dropped.push(i);
      } catch (err) {
        ctx.log.warn({ index: shownName(i), err: errorMessage(err) }, 'could not drop an invalid index left by a failed build');
        failed.push(i);
      }
    }
  }, { statementTimeoutMs: ctx.config.db.maintenance_timeout }).catch((err: unknown) => {
    ctx.log.warn({ err: errorMessage(err) }, 'no connection to drop the invalid indexes left by a failed build');
    failed.push(...indexes.filter((i) => !dropped.includes(i)));
  });
  return { dropped, failed };
}

/** Invalid indexes on a table, for an interrupted run's card (it inspects, never drops). */
export async function invalidOn(pg: PostgresExecutor, table: number): Promise<IndexName[]> {
  return invalid(pg, await withToast(pg, table));
}
