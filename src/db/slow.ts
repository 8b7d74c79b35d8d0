/**
 * `/db slow` (manual §1.3 查看慢查询), from pg_stat_statements. The manual orders by total_time,
 * which PostgreSQL 13 renamed to total_exec_time; the column is chosen by the server's version.
 */
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { sqlState } from './errors.ts';
import { percent } from './format.ts';
import { oneLine, server, type Server } from './target.ts';

interface Row {
  query: string;
  calls: string;
  total_ms: number;
  mean_ms: number;
  rows: string;
  share: number;
  hit: number | null;
  role: string | null;
}

/** The columns of pg_stat_statements for a server: total_exec_time from 13 on, total_time before. */
export function timeColumns(serverNum: number): { total: string; mean: string } {
  return serverNum >= 130000 ? { total: 'total_exec_time', mean: 'mean_exec_time' } : { total: 'total_time', mean: 'mean_time' };
}

/** What to do to get pg_stat_statements, given what is missing: the preload, the extension, or both. */
function howToEnable(t: T, target: string, database: string, preloaded: string | null, created: boolean): Report {
  const current = preloaded?.trim() ?? '';
  const loaded = current.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).includes('pg_stat_statements');
  const steps: string[] = [];
  if (!loaded) {
    const value = current ? `${current}, pg_stat_statements` : 'pg_stat_statements';
    steps.push(t('db:slow.enable.preload', { value, current: preloaded === null ? t('db:slow.enable.unknown') : current || t('db:slow.enable.empty') }));
    steps.push(t('db:slow.enable.restart'));
  }
  if (!created) steps.push(t('db:slow.enable.create', { database }));
  return {
    title: t('db:slow.title', { target }),
    status: 'warn',
    summary: t(created ? 'db:slow.not_loaded' : 'db:slow.missing', { database }),
    sections: [{ title: t('db:slow.enable.title'), lines: steps.map((s, i) => `${i + 1}. ${s}`) }],
    footer: t('db:slow.enable.footer'),
  };
}

/** What pg_stat_statements holds, or why it cannot be read: the data behind /db slow, /perf and the weekly report. */
export type SlowRead =
  | { ok: true; srv: Server; column: string; rows: SlowRow[] }
  | { ok: false; srv: Server; preload: string | null; created: boolean };

export type SlowRow = Row;

/** The statements that took the most time in all (`total`), or the most per call (`mean`). */
export async function readSlow(pg: PostgresExecutor, limit: number, order: 'total' | 'mean' = 'total'): Promise<SlowRead> {
  const srv = await server(pg);
  const [[ext], preload] = await Promise.all([
    pg.query<{ version: string | null }>(`select (select extversion from pg_extension where extname = 'pg_stat_statements') as version`),
    // Only superusers and pg_read_all_settings may read it; unknown, the advice names it anyway.
    pg.query<{ v: string }>(`select current_setting('shared_preload_libraries') as v`).then((r) => r[0].v, () => null),
  ]);
  if (!ext.version) return { ok: false, srv, preload, created: false };
  const col = timeColumns(srv.num);
  const by = order === 'mean' ? col.mean : col.total;
  try {
    // The share is of every statement's time in this database: the window runs before the limit.
    // The bot's own reads (marked, as /db activity's are) are not the application's slow queries.
    const rows = await pg.query<Row>(
      `select s.query, s.calls::text as calls, s.${col.total}::float8 as total_ms, s.${col.mean}::float8 as mean_ms, s.rows::text as rows,
              (s.${col.total} / nullif(sum(s.${col.total}) over (), 0))::float8 as share,
              (s.shared_blks_hit::float8 / nullif(s.shared_blks_hit + s.shared_blks_read, 0)) as hit,
              r.rolname as role
         from pg_stat_statements s
         join pg_database d on d.oid = s.dbid
         left join pg_roles r on r.oid = s.userid
        where d.datname = current_database() and s.query not like '/* opsbot:%'
        order by s.${by} desc
        limit $1`,
      [limit],
    );
    return { ok: true, srv, column: by, rows };
  } catch (err) {
    // 55000: the extension exists but the library was not preloaded, so its view cannot be read.
    if (sqlState(err) === '55000') return { ok: false, srv, preload, created: true };
    throw err;
  }
}

/** Two lines per statement: its figures, then its text. */
export function slowLines(t: T, rows: SlowRow[]): string[] {
  return rows.flatMap((r, i) => [
    t('db:slow.line', {
      n: i + 1, total: t.duration(r.total_ms), calls: t.number(Number(r.calls)), mean: t.number(r.mean_ms, { maximumFractionDigits: r.mean_ms < 10 ? 2 : 0 }),
      share: percent(t, r.share ?? 0), rows: t.number(Number(r.rows)), hit: r.hit === null ? '-' : percent(t, r.hit), role: r.role ?? '?',
    }),
    `    ${oneLine(r.query, 300)}`,
  ]);
}

/** The advice when pg_stat_statements cannot be read. */
export function slowMissing(t: T, target: string, read: Extract<SlowRead, { ok: false }>): Report {
  return howToEnable(t, target, read.srv.database, read.preload, read.created);
}

export async function slowReport(t: T, pg: PostgresExecutor, target: string, limit: number): Promise<Report> {
  const read = await readSlow(pg, limit);
  if (!read.ok) return slowMissing(t, target, read);
  const { srv, rows } = read;
  const lines = slowLines(t, rows);
  return {
    title: t('db:slow.title', { target }),
    status: 'info',
    summary: rows.length ? t('db:slow.summary', { count: rows.length, database: srv.database, column: read.column, version: srv.version }) : t('db:slow.none', { database: srv.database }),
    sections: rows.length ? [{ title: t('db:slow.heading'), lines, code: true }] : [],
    footer: t('db:slow.footer'),
  };
}
