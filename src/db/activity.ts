/**
 * `/db activity` (manual §4.2 响应缓慢): this database's sessions by state, the transactions left
 * open while idle, the longest-running queries, and who blocks whom (pg_blocking_pids).
 */
import type { Config } from '../config/schema.ts';
import { grade, worst, type Report, type Section, type Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { oneLine } from './target.ts';

interface Session {
  pid: number;
  user: string | null;
  app: string | null;
  client: string | null;
  state: string | null;
  xact_ms: number | null;
  state_ms: number | null;
  query_ms: number | null;
  wait: string | null;
  query: string | null;
}

/** Ages by clock_timestamp(): now() is when this statement's own transaction began. */
// i18n-exempt: SQL sent to the server
const SESSION = `a.pid, a.usename as user, nullif(a.application_name, '') as app, host(a.client_addr) as client, a.state,
  extract(epoch from clock_timestamp() - a.xact_start)::float8 * 1000 as xact_ms,
  extract(epoch from clock_timestamp() - a.state_change)::float8 * 1000 as state_ms,
  extract(epoch from clock_timestamp() - a.query_start)::float8 * 1000 as query_ms,
  case when a.wait_event is not null then a.wait_event_type || ':' || a.wait_event end as wait, a.query`;

const LIMIT = 10;

/**
 * This report's own reads run on several pooled connections at once, each of which would list
 * the others as running queries: they carry this mark and are left out. Other work of the bot
 * (a VACUUM it runs) is shown like anyone's.
 */
const MARK = '/* opsbot:activity */';
// i18n-exempt: SQL sent to the server
const NOT_OURS = `a.query not like '${MARK}%'`;

export type ActivitySession = Session;

/** What pg_stat_activity says now: the data behind /db activity and /perf. */
export interface ActivityRead {
  states: Array<{ state: string; n: number }>;
  totals: { all: number; max: number; database: string };
  idle: Session[];
  longest: Session[];
  blocked: Array<Session & { blockers: number[] }>;
  blockerPids: number[];
  byPid: Map<number, Session>;
}

export async function readActivity(pg: PostgresExecutor): Promise<ActivityRead> {
  const [states, [totals], idle, longest, blocked] = await Promise.all([
    pg.query<{ state: string; n: number }>(
      // i18n-exempt: SQL sent to the server
      `${MARK} select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity a
        where backend_type = 'client backend' and datname = current_database() and ${NOT_OURS} group by 1 order by 2 desc, 1`,
    ),
    pg.query<{ all: number; max: number; database: string }>(
      // i18n-exempt: SQL sent to the server
      `${MARK} select (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as all,
              current_setting('max_connections')::int as max, current_database() as database`,
    ),
    pg.query<Session>(
      // i18n-exempt: SQL sent to the server
      `${MARK} select ${SESSION} from pg_stat_activity a
        where a.state like 'idle in transaction%' and a.datname = current_database() order by a.xact_start limit ${LIMIT}`,
    ),
    pg.query<Session>(
      // i18n-exempt: SQL sent to the server
      `${MARK} select ${SESSION} from pg_stat_activity a
        where a.state = 'active' and ${NOT_OURS} and a.backend_type = 'client backend' and a.datname = current_database()
        order by a.query_start limit ${LIMIT}`,
    ),
    pg.query<Session & { blockers: number[] }>(
      // i18n-exempt: SQL sent to the server
      `${MARK} select ${SESSION}, pg_blocking_pids(a.pid) as blockers from pg_stat_activity a
        where a.datname = current_database() and cardinality(pg_blocking_pids(a.pid)) > 0 order by a.query_start limit 20`,
    ),
  ]);
  const blockerPids = [...new Set(blocked.flatMap((b) => b.blockers))];
  // i18n-exempt: SQL sent to the server
  const blockers = blockerPids.length ? await pg.query<Session>(`${MARK} select ${SESSION} from pg_stat_activity a where a.pid = any($1::int[])`, [blockerPids]) : [];
  const byPid = new Map(blockers.map((b) => [b.pid, b]));

  return { states, totals, idle, longest, blocked, blockerPids, byPid };
}

export async function activityReport(t: T, config: Config, pg: PostgresExecutor, target: string): Promise<Report> {
  const { states, totals, idle, longest, blocked, blockerPids, byPid } = await readActivity(pg);
  const txLevel = config.health.thresholds.pg_longest_transaction;
  const statuses: Status[] = [];
  const who = (s: Session) => t('db:activity.who', { pid: s.pid, user: s.user ?? '?', app: s.app ?? '-' });
  const sections: Section[] = [];

  sections.push({
    title: t('db:activity.states', { database: totals.database }),
    lines: [
      states.map((s) => `${s.state}: ${t.number(s.n)}`).join(' · ') || t('db:activity.no_sessions'),
      t('db:activity.server', { all: t.number(totals.all), max: t.number(totals.max) }),
    ],
  });

  const idleLines = idle.map((s) => {
    const status = grade(s.xact_ms ?? 0, txLevel);
    statuses.push(status);
    return t('db:activity.idle_line', { who: who(s), tx: t.duration(s.xact_ms ?? 0), idle: t.duration(s.state_ms ?? 0), query: oneLine(s.query, 120), icon: status === 'ok' ? '' : status === 'warn' ? '⚠️ ' : '❌ ' });
  });
  sections.push({ title: t('db:activity.idle_title', { count: idle.length }), lines: idleLines.length ? idleLines : [t('db:activity.idle_none')] });

  sections.push({
    title: t('db:activity.longest_title', { count: longest.length }),
    lines: longest.length
      ? longest.map((s) => t('db:activity.longest_line', { who: who(s), ms: t.duration(s.query_ms ?? 0), wait: s.wait ?? '-', query: oneLine(s.query, 160) }))
      : [t('db:activity.longest_none')],
  });

  if (blocked.length) statuses.push('warn');
  const roots = blockerPids.filter((p) => !blocked.some((b) => b.pid === p));
  sections.push({
    title: t('db:activity.locks_title', { count: blocked.length }),
    lines: blocked.length
      ? [
          ...blocked.flatMap((b) => [
            t('db:activity.blocked_line', { who: who(b), ms: t.duration(b.query_ms ?? 0), wait: b.wait ?? '-', query: oneLine(b.query, 120) }),
            ...b.blockers.map((p) => {
              const s = byPid.get(p);
              return s
                ? `    ${t('db:activity.blocker_line', { who: who(s), state: s.state ?? '?', tx: t.duration(s.xact_ms ?? 0), query: oneLine(s.query, 120) })}`
                : `    ${t('db:activity.blocker_gone', { pid: p })}`;
            }),
          ]),
          ...(roots.length ? [t('db:activity.roots', { pids: roots.join(', '), first: roots[0] })] : []),
        ]
      : [t('db:activity.locks_none')],
  });

  const status = worst(statuses);
  return {
    title: t('db:activity.title', { target }),
    status: status === 'ok' ? 'info' : status,
    summary: t('db:activity.summary', {
      sessions: states.reduce((n, s) => n + s.n, 0), database: totals.database, idle: idle.length, blocked: blocked.length,
    }),
    sections,
  };
}
