/**
 * `/db bloat` (manual §1.3 清理死元组): dead tuples per table, their share of the rows, and when
 * each table was last vacuumed and analysed, by hand or by autovacuum.
 */
import type { Config } from '../config/schema.ts';
import { grade, worst, type Report, type Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { ago, percent } from './format.ts';
import { shownName } from './resolve.ts';

interface Row {
  schema: string;
  name: string;
  live: string;
  dead: string;
  bytes: string;
  last_vacuum: Date | null;
  last_autovacuum: Date | null;
  last_analyze: Date | null;
  last_autoanalyze: Date | null;
  modified: string;
}

/** Below this many dead tuples a table is not graded: two dead rows of four is no problem. */
export const MIN_DEAD = 1000;

export interface BloatRow {
  r: Row;
  live: number;
  dead: number;
  ratio: number;
  status: Status;
}

/** Tables by dead tuples, graded against db.dead_ratio_percent: the data behind /db bloat and the weekly report. */
export async function readBloat(config: Config, pg: PostgresExecutor, limit: number): Promise<BloatRow[]> {
  const rows = await pg.query<Row>(
    `select s.schemaname as schema, s.relname as name, s.n_live_tup::text as live, s.n_dead_tup::text as dead,
            pg_table_size(s.relid)::text as bytes, s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
            s.n_mod_since_analyze::text as modified
       from pg_stat_user_tables s
      order by s.n_dead_tup desc, pg_table_size(s.relid) desc
      limit $1`,
    [limit],
  );
  const level = config.db.dead_ratio_percent;
  return rows.map((r) => {
    const live = Number(r.live);
    const dead = Number(r.dead);
    const ratio = dead / Math.max(1, live + dead);
    const status: Status = dead >= MIN_DEAD ? grade(ratio * 100, level) : 'ok';
    return { r, live, dead, ratio, status };
  });
}

/** One line per table, with its grade's icon. */
export function bloatLines(t: T, graded: BloatRow[]): string[] {
  return graded.map(({ r, live, dead, ratio, status }) => {
    const icon = status === 'ok' ? '✅' : status === 'warn' ? '⚠️' : '❌';
    return `${icon} ${t('db:bloat.line', {
      table: shownName(r), dead: t.number(dead), live: t.number(live), ratio: percent(t, ratio), size: Number(r.bytes),
      vacuum: ago(t, r.last_vacuum), autovacuum: ago(t, r.last_autovacuum), analyze: ago(t, r.last_analyze), autoanalyze: ago(t, r.last_autoanalyze),
      modified: t.number(Number(r.modified)),
    })}`;
  });
}

export async function bloatReport(t: T, config: Config, pg: PostgresExecutor, target: string, limit: number): Promise<Report> {
  const graded = await readBloat(config, pg, limit);
  const level = config.db.dead_ratio_percent;
  const lines = bloatLines(t, graded);
  const bad = graded.filter((g) => g.status !== 'ok');
  const status = worst(graded.map((g) => g.status));
  return {
    title: t('db:bloat.title', { target }),
    status,
    summary: graded.length
      ? bad.length ? t('db:bloat.summary_bad', { count: bad.length, warn: level.warn }) : t('db:bloat.summary_ok', { warn: level.warn })
      : t('db:bloat.none'),
    sections: graded.length ? [{ title: t('db:bloat.heading', { count: graded.length }), lines }] : [],
    footer: bad.length ? t('db:bloat.advice', { table: shownName(bad[0].r) }) : t('db:bloat.footer', { min: MIN_DEAD }),
  };
}
