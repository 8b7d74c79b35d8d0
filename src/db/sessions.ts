/**
 * `/db cancel` and `/db terminate`: one backend of the target's database, known by its pid and
 * its start time. A pid is reused once its session ends, so the plan records both, and the
 * signal is sent only to a backend that still has both: never to a newcomer with an old number.
 */
import { UserError } from '../core/errors.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type Msg } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { oneLine } from './target.ts';

export interface Backend {
  pid: number;
  /** backend_start, as the server's text: compared exactly, never through a JS Date's milliseconds. */
  started: string;
  user: string | null;
  app: string | null;
  client: string | null;
  state: string | null;
  query: string | null;
  query_ms: number | null;
  xact_ms: number | null;
  /** In a transaction begun before its current (or last) statement: one that ending it rolls back. */
  in_tx: boolean;
  database: string | null;
  type: string | null;
  self: boolean;
}

const BACKEND = `select a.pid, a.backend_start::text as started, a.usename as user, nullif(a.application_name, '') as app,
  host(a.client_addr) as client, a.state, a.query, coalesce(a.xact_start < a.query_start, false) as in_tx, a.datname as database, a.backend_type as type, a.pid = pg_backend_pid() as self,
  extract(epoch from clock_timestamp() - a.query_start)::float8 * 1000 as query_ms,
  extract(epoch from clock_timestamp() - a.xact_start)::float8 * 1000 as xact_ms
  from pg_stat_activity a`;

/** The backend `pid` of the target's database, or a UserError saying why it cannot be acted on. */
export async function findBackend(pg: PostgresExecutor, pid: number, usage: readonly UsageLine[]): Promise<Backend> {
  const [[b], [{ database }]] = await Promise.all([
    // i18n-exempt: SQL sent to the server
    pg.query<Backend>(`${BACKEND} where a.pid = $1`, [pid]),
    pg.query<{ database: string }>(`select current_database() as database`),
  ]);
  if (!b) throw new UserError(msg('db:session.no_pid', { pid }), { usage });
  if (b.self) throw new UserError(msg('db:session.self', { pid }));
  // i18n-exempt: the server's own word for a session
  if (b.type !== 'client backend') throw new UserError(msg('db:session.not_client', { pid, type: b.type ?? '?' }));
  if (b.database !== database) throw new UserError(msg('db:session.other_database', { pid, database: b.database ?? '?', target: database }));
  return b;
}

/** "pid 4242 (alice, psql, 10.0.0.7), idle in transaction, transaction open 5 min: update …", for a plan. */
export function backendSummary(kind: 'cancel' | 'terminate', b: Backend): Msg {
  return msg(`db:${kind}.${b.in_tx ? 'plan_tx' : 'plan'}`, {
    pid: b.pid, user: b.user ?? '?', app: b.app ?? '-', client: b.client ?? 'local', state: b.state ?? '?',
    ms: b.query_ms ?? 0, tx: b.xact_ms ?? 0, query: oneLine(b.query, 200),
  });
}

/** Whether that very session (same pid, same start) is still there. */
export async function stillThere(pg: PostgresExecutor, pid: number, started: string): Promise<Backend | undefined> {
  // i18n-exempt: SQL sent to the server
  const [b] = await pg.query<Backend>(`${BACKEND} where a.pid = $1 and a.backend_start::text = $2`, [pid, started]);
  return b;
}

/** Sends the signal to that session only; false when it had already gone. */
export async function signalBackend(pg: PostgresExecutor, how: 'cancel' | 'terminate', pid: number, started: string): Promise<boolean> {
  const fn = how === 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend';
  const [r] = await pg.query<{ sent: boolean | null }>(
    `select ${fn}(a.pid) as sent from pg_stat_activity a where a.pid = $1 and a.backend_start::text = $2`,
    [pid, started],
  );
  return r?.sent === true;
}

/** Waits up to `ms` for `done` to hold of the session (or of its absence). */
export async function waitFor(pg: PostgresExecutor, pid: number, started: string, ms: number, done: (b: Backend | undefined) => boolean): Promise<Backend | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const b = await stillThere(pg, pid, started);
    if (done(b) || Date.now() > deadline) return b;
    await new Promise((r) => setTimeout(r, 100));
  }
}
