/** `/db sizes` (manual §1.3 查看表大小): the database, and its biggest tables split into heap, indexes and TOAST. */
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { columns, percent } from './format.ts';
import { shownName } from './resolve.ts';

interface Row {
  schema: string;
  name: string;
  total: string;
  heap: string;
  indexes: string;
  toast: string;
  rows: string;
}

export async function sizesReport(t: T, pg: PostgresExecutor, target: string, limit: number): Promise<Report> {
  const [[db], tables] = await Promise.all([
    pg.query<{ database: string; size: string; tables: string }>(
      `select current_database() as database, pg_database_size(current_database())::text as size,
              (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%')::text as tables`,
    ),
    // The heap is the table's own size without its TOAST table, which is counted apart.
    pg.query<Row>(
      `select n.nspname as schema, c.relname as name,
              pg_total_relation_size(c.oid)::text as total,
              (pg_table_size(c.oid) - coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0))::text as heap,
              pg_indexes_size(c.oid)::text as indexes,
              coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::text as toast,
              greatest(c.reltuples, 0)::bigint::text as rows
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        order by pg_total_relation_size(c.oid) desc, 1, 2
        limit $1`,
      [limit],
    ),
  ]);
  const dbSize = Number(db.size);
  const head = [t('db:sizes.total'), t('db:sizes.heap'), t('db:sizes.indexes'), t('db:sizes.toast'), t('db:sizes.rows'), t('db:sizes.share'), t('db:sizes.table')];
  const body = tables.map((r) => [
    t.bytes(Number(r.total)), t.bytes(Number(r.heap)), t.bytes(Number(r.indexes)), t.bytes(Number(r.toast)),
    t.number(Number(r.rows)), percent(t, Number(r.total) / (dbSize || 1)), shownName(r),
  ]);
  return {
    title: t('db:sizes.title', { target }),
    status: 'info',
    summary: t('db:sizes.summary', { database: db.database, size: dbSize, tables: Number(db.tables) }),
    sections: tables.length
      ? [{ title: t('db:sizes.top', { count: tables.length }), lines: columns([head, ...body], [0, 1, 2, 3, 4, 5]), code: true }]
      : [{ title: t('db:sizes.top', { count: 0 }), lines: [t('db:sizes.none')] }],
    footer: t('db:sizes.footer'),
  };
}
