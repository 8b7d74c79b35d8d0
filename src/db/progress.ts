/**
 * A long maintenance statement on its own connection, its progress read from pg_stat_progress_*
 * by its backend pid once a second and shown on the card, and Stop honoured by cancelling that
 * backend (the session's signal does it).
 */
import type { ExecContext } from '../core/define-command.ts';
import type { T } from '../i18n/index.ts';
import type { PgSession, PostgresExecutor } from '../targets/types.ts';
import { whileRunning } from '../backup/progress.ts';
import { serverError } from './errors.ts';

/** The progress view of each kind of statement; VACUUM FULL reports as CLUSTER does. */
export type ProgressView = 'vacuum' | 'cluster' | 'create_index' | 'analyze';

type Progress = Record<string, number | string | null>;

const num = (p: Progress, k: string) => Number(p[k] ?? 0);

/** "scanning heap: 45% (1,234 of 2,740 blocks)", with the server's own phase name. */
export function progressText(t: T, view: ProgressView, p: Progress, relation: string | null): string {
  const phase = String(p.phase ?? '');
  let done = 0;
  let total = 0;
  let unit: 'blocks' | 'tuples' | 'lockers' = 'blocks';
  if (view === 'vacuum' || view === 'cluster') [done, total] = [num(p, 'heap_blks_scanned'), num(p, 'heap_blks_total')];
  else if (view === 'analyze') [done, total] = [num(p, 'sample_blks_scanned'), num(p, 'sample_blks_total')];
  else if (num(p, 'lockers_total') > num(p, 'lockers_done')) {
    // Waiting for older transactions: the build cannot go on until they end.
    [done, total, unit] = [num(p, 'lockers_done'), num(p, 'lockers_total'), 'lockers'];
  } else if (num(p, 'blocks_total') > 0) [done, total] = [num(p, 'blocks_done'), num(p, 'blocks_total')];
  else [done, total, unit] = [num(p, 'tuples_done'), num(p, 'tuples_total'), 'tuples'];
  const figures = total > 0
    ? t(`db:progress.${unit}`, { percent: t.number((done / total) * 100, { maximumFractionDigits: 0 }), done: t.number(done), total: t.number(total), pid: p.current_locker_pid ?? '' })
    : '';
  return [relation, phase, figures].filter(Boolean).join(' · ');
}

/**
 * Runs `fn` on a connection of its own, showing its progress on the card while it runs. A
 * server error comes back as a UserError the card can show (timeout, Stop, a lock not granted).
 */
export async function withProgress<R>(
  ctx: Pick<ExecContext, 't' | 'status' | 'signal'>,
  pg: PostgresExecutor,
  view: ProgressView,
  opts: { timeoutMs: number; lockTimeoutMs?: number; prefix?: string },
  fn: (s: PgSession) => Promise<R>,
): Promise<R> {
  try {
    return await pg.session(async (s) => {
      const tick = async () => {
        const [row] = await pg.query<{ p: Progress; rel: string | null }>(
          `select to_jsonb(p) as p, p.relid::regclass::text as rel from pg_stat_progress_${view} p where p.pid = $1`,
          [s.pid],
        );
        if (row) ctx.status([opts.prefix, progressText(ctx.t, view, row.p, row.rel)].filter(Boolean).join(' · '));
      };
      return whileRunning(fn(s), 1000, tick);
    }, { statementTimeoutMs: opts.timeoutMs, lockTimeoutMs: opts.lockTimeoutMs ?? 0, signal: ctx.signal });
  } catch (err) {
    throw serverError(err, { timeoutMs: opts.timeoutMs, lockTimeoutMs: opts.lockTimeoutMs });
  }
}
