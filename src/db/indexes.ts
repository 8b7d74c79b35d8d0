/**
 * `/db indexes` (manual §3.1 索引优化). The manual looks for missing indexes in pg_stats'
 * n_distinct, which says what a column holds, not how it is queried. The scan counters say how:
 * an index never scanned costs writes and space for nothing, and a big table read again and again
 * by sequential scans is where an index is missing.
 */
import type { Report, Section } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { shownName } from './resolve.ts';

/** A table is a candidate from this many live rows, read this many rows a sequential scan on average. */
export const SEQ_MIN_ROWS = 10_000;
export const SEQ_MIN_AVG = 1_000;

interface Unused {
  schema: string;
  table: string;
  index: string;
  bytes: string;
}

interface SeqHeavy {
  schema: string;
  name: string;
  seq_scan: string;
  seq_read: string;
  idx_scan: string | null;
  live: string;
  bytes: string;
}

export async function indexesReport(t: T, pg: PostgresExecutor, target: string, limit: number): Promise<Report> {
  const [unused, invalid, heavy, [since]] = await Promise.all([
    // Unique and primary-key indexes enforce something even when no query reads them, and an
    // index behind a constraint cannot be dropped on its own: neither is offered.
    pg.query<Unused>(
      `select s.schemaname as schema, s.relname as table, s.indexrelname as index, pg_relation_size(s.indexrelid)::text as bytes
         from pg_stat_user_indexes s join pg_index i on i.indexrelid = s.indexrelid
        where s.idx_scan = 0 and not i.indisunique and not i.indisprimary and i.indisvalid
          and not exists (select 1 from pg_constraint c where c.conindid = s.indexrelid)
        order by pg_relation_size(s.indexrelid) desc, 1, 2, 3
        limit $1`,
      [limit],
    ),
    pg.query<Unused>(
      `select n.nspname as schema, t.relname as table, c.relname as index, pg_relation_size(c.oid)::text as bytes
         from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
        where not i.indisvalid order by 1, 2, 3`,
    ),
    pg.query<SeqHeavy>(
      `select schemaname as schema, relname as name, seq_scan::text, seq_tup_read::text as seq_read, idx_scan::text,
              n_live_tup::text as live, pg_table_size(relid)::text as bytes
         from pg_stat_user_tables
        where seq_scan > 0 and n_live_tup >= $2 and seq_tup_read / seq_scan >= $3 and seq_scan > coalesce(idx_scan, 0)
        order by seq_tup_read desc
        limit $1`,
      [limit, SEQ_MIN_ROWS, SEQ_MIN_AVG],
    ),
    pg.query<{ reset: Date | null }>(`select stats_reset as reset from pg_stat_database where datname = current_database()`),
  ]);
  const wasted = unused.reduce((n, u) => n + Number(u.bytes), 0);
  const sections: Section[] = [
    {
      title: t('db:indexes.unused_title', { count: unused.length, size: wasted }),
      lines: unused.length
        ? unused.map((u) => t('db:indexes.unused_line', { index: shownName({ schema: u.schema, name: u.index }), table: u.table, size: Number(u.bytes) }))
        : [t('db:indexes.unused_none')],
    },
    {
      title: t('db:indexes.seq_title', { count: heavy.length }),
      lines: heavy.length
        ? heavy.map((h) => t('db:indexes.seq_line', {
            table: shownName(h), scans: t.number(Number(h.seq_scan)), read: t.number(Number(h.seq_read)),
            avg: t.number(Math.round(Number(h.seq_read) / Math.max(1, Number(h.seq_scan)))), idx: t.number(Number(h.idx_scan ?? 0)),
            live: t.number(Number(h.live)), size: Number(h.bytes),
          }))
        : [t('db:indexes.seq_none', { rows: t.number(SEQ_MIN_ROWS), avg: t.number(SEQ_MIN_AVG) })],
    },
  ];
  if (invalid.length) {
    sections.push({
      title: t('db:indexes.invalid_title', { count: invalid.length }),
      lines: invalid.map((u) => t('db:indexes.invalid_line', { index: shownName({ schema: u.schema, name: u.index }), table: u.table, size: Number(u.bytes) })),
    });
  }
  return {
    title: t('db:indexes.title', { target }),
    status: invalid.length ? 'warn' : 'info',
    summary: t('db:indexes.summary', { unused: unused.length, size: wasted, seq: heavy.length, invalid: invalid.length }),
    sections,
    footer: since.reset ? t('db:indexes.since', { at: new Date(since.reset) }) : t('db:indexes.since_start'),
  };
}
