/**
 * Table, index and column names typed by a user, resolved against the catalog with parameters,
 * never spliced into SQL. What goes into a statement afterwards is the catalog's own name, quoted
 * by the driver.
 */
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg } from '../i18n/index.ts';
import { quoteIdent } from '../targets/postgres.ts';
import type { PostgresExecutor } from '../targets/types.ts';

export type RelationKind = 'table' | 'index' | 'any';

/** pg_class.relkind values: tables (plain, partitioned, materialized views), and indexes. */
const RELKINDS: Record<RelationKind, string[]> = { table: ['r', 'p', 'm'], index: ['i', 'I'], any: ['r', 'p', 'm', 'i', 'I'] };

const MESSAGES: Record<RelationKind, { ambiguous: string; unknown: string }> = {
  table: { ambiguous: 'db:errors.ambiguous_table', unknown: 'db:errors.unknown_table' },
  index: { ambiguous: 'db:errors.ambiguous_index', unknown: 'db:errors.unknown_index' },
  any: { ambiguous: 'db:errors.ambiguous_any', unknown: 'db:errors.unknown_any' },
};

export interface Relation {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
}

/** The schemas that hold the application's objects, not the server's. */
// i18n-exempt: SQL sent to the server
const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'`;

/** `"public"."Order Items"`: for SQL, quoted by the driver. */
export const sqlName = (r: { schema: string; name: string }) => `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`;

/** `public.orders`, or `public."Order Items"` when the name would not read back as itself. */
export function shownName(r: { schema: string; name: string }): string {
  const part = (s: string) => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : quoteIdent(s));
  return `${part(r.schema)}.${part(r.name)}`;
}

interface Row {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  visible: boolean;
}

const toRelation = (r: Row): Relation => ({ oid: Number(r.oid), schema: r.schema, name: r.name, relkind: r.relkind });

/**
 * A table or index as the user wrote it: `orders`, `public.orders`, `Order Items`, or SQL's own
 * form `"Order Items"`. An unknown name is refused with the closest known one.
 */
export async function resolveRelation(pg: PostgresExecutor, given: string, kind: RelationKind, usage: readonly UsageLine[] = []): Promise<Relation> {
  const kinds = RELKINDS[kind];
  // As typed, case and all: a bare name in any schema (the visible one first), or schema.name.
  const exact = await pg.query<Row>(
    `select c.oid::text as oid, n.nspname as schema, c.relname as name, c.relkind::text as relkind, pg_table_is_visible(c.oid) as visible
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind::text = any($2) and ${USER_SCHEMAS}
        and (c.relname = $1 or (strpos($1, '.') > 0 and n.nspname = split_part($1, '.', 1) and c.relname = substr($1, strpos($1, '.') + 1)))
      order by pg_table_is_visible(c.oid) desc, n.nspname`,
    [given, kinds],
  );
  const visible = exact.filter((r) => r.visible);
  if (visible.length === 1 || exact.length === 1) return toRelation(visible[0] ?? exact[0]);
  if (exact.length > 1) {
    throw new UserError(msg(MESSAGES[kind].ambiguous, { given, options: exact.map((r) => shownName(r)) }), { usage });
  }
  // SQL's own spelling: quoted parts, unquoted ones folded to lower case.
  const parsed = await pg.query<Row>(
    `select c.oid::text as oid, n.nspname as schema, c.relname as name, c.relkind::text as relkind, true as visible
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.oid = to_regclass($1) and c.relkind::text = any($2) and ${USER_SCHEMAS}`,
    [given, kinds],
  ).catch(() => [] as Row[]); // not valid SQL name syntax ("a b"): simply not this way
  if (parsed.length === 1) return toRelation(parsed[0]);
  const all = await pg.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind::text = any($1) and ${USER_SCHEMAS} order by pg_table_is_visible(c.oid) desc, c.relname limit 20000`,
    [kinds],
  );
  const guess = didYouMean(given.replace(/"/g, ''), [...new Set(all.flatMap((r) => [r.name, `${r.schema}.${r.name}`]))]);
  throw new UserError(msg(MESSAGES[kind].unknown, { given }), { usage, hint: guess });
}

/**
 * Columns of a table by the names given, as the catalog spells them. A name that matches no
 * column exactly may match one ignoring case, if only one does; otherwise it is refused.
 */
export async function resolveColumns(pg: PostgresExecutor, table: Relation, given: string[], usage: readonly UsageLine[] = []): Promise<string[]> {
  const cols = (await pg.query<{ name: string }>(
    `select attname as name from pg_attribute where attrelid = $1 and attnum > 0 and not attisdropped order by attnum`,
    [table.oid],
  )).map((r) => r.name);
  return given.map((g) => {
    if (cols.includes(g)) return g;
    const folded = cols.filter((c) => c.toLowerCase() === g.toLowerCase());
    if (folded.length === 1) return folded[0];
    const guess = didYouMean(g, cols);
    throw new UserError(msg('db:errors.unknown_column', { column: g, table: shownName(table), columns: cols }), { usage, hint: guess });
  });
}

/**
 * `(tenant_id, created_at)` as Slack splits it: `(tenant_id,` and `created_at)`. The brackets and
 * commas around the words are taken off; a word may be quoted to hold spaces.
 */
export function columnWords(words: string[]): string[] {
  return words.flatMap((w) => w.split(',')).map((w) => w.trim().replace(/^\(+/, '').replace(/\)+$/, '').trim()).filter(Boolean);
}
