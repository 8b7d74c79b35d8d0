/**
 * What backup and restore ask PostgreSQL directly: versions, sizes, row counts, and the few
 * statements that create, rename and drop databases. Only these small answers pass through the
 * bot; the data itself goes from pg_dump to disk and from disk to pg_restore.
 * Identifiers are quoted by the driver (pg.escapeIdentifier), never by hand.
 */
import pg from 'pg';
import type { TableCount } from './store.ts';

/** A URL with the password taken out (it travels apart: stdin, env), and the database swapped. */
export function splitUrl(url: string, database?: string): { url: string; password: string; database: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  if (database !== undefined) u.pathname = `/${encodeURIComponent(database)}`;
  return { url: u.toString(), password, database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) };
}

/** A URL naming another database of the same server (credentials kept). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export const ident = (name: string) => pg.escapeIdentifier(name);
const literal = (text: string) => pg.escapeLiteral(text);

/** One short-lived connection; statements are bounded so a stuck server cannot hold a step forever. */
export async function connect(url: string, opts: { statementTimeoutMs?: number; application?: string } = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    statement_timeout: opts.statementTimeoutMs ?? 0,
    application_name: opts.application ?? 'opsbot-backup',
  });
  client.on('error', () => {}); // a dropped connection fails the next query instead
  await client.connect();
  return client;
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, opts?: Parameters<typeof connect>[1]): Promise<T> {
  const c = await connect(url, opts);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

export interface ServerInfo {
  version: string;
  major: number;
  database: string;
  sizeBytes: number;
  /** Null when the role may not read it (not a superuser or pg_read_all_settings). */
  dataDirectory: string | null;
}

export async function serverInfo(c: pg.Client): Promise<ServerInfo> {
  const { rows: [r] } = await c.query<{ version: string; num: string; db: string; size: string }>(
    `select current_setting('server_version') as version, current_setting('server_version_num') as num,
            current_database() as db, pg_database_size(current_database())::text as size`,
  );
  const dir = await c.query<{ d: string }>(`select current_setting('data_directory') as d`).then((x) => x.rows[0].d, () => null);
  return { version: r.version, major: Math.floor(Number(r.num) / 10000), database: r.db, sizeBytes: Number(r.size), dataDirectory: dir };
}

/** Ordinary tables (and partitions, which hold the rows) outside the system schemas and extensions. */
export async function listTables(c: pg.Client): Promise<Array<{ schema: string; name: string }>> {
  const { rows } = await c.query<{ schema: string; name: string }>(
    `select n.nspname as schema, cl.relname as name
       from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
      where cl.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = cl.oid and d.deptype = 'e')
      order by 1, 2`,
  );
  return rows;
}

/** Exact row counts, one table at a time (inside whatever snapshot `c` is in). */
export async function countRows(c: pg.Client, tables: Array<{ schema: string; name: string }>, signal?: AbortSignal): Promise<TableCount[]> {
  const out: TableCount[] = [];
  for (const t of tables) {
    if (signal?.aborted) throw signal.reason;
    const { rows: [r] } = await c.query<{ n: string }>(`select count(*)::text as n from only ${ident(t.schema)}.${ident(t.name)}`);
    out.push({ ...t, rows: Number(r.n) });
  }
  return out;
}

/**
 * Opens a repeatable-read, read-only transaction and exports its snapshot: pg_dump --snapshot
 * dumps exactly what this transaction sees, so the counts taken here are the dump's counts.
 * The transaction must stay open until pg_dump has started; the caller ends it after the dump.
 */
export async function exportSnapshot(c: pg.Client): Promise<string> {
  await c.query('begin isolation level repeatable read, read only');
  const { rows: [r] } = await c.query<{ s: string }>('select pg_export_snapshot() as s');
  return r.s;
}

export interface DatabaseInfo {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  comment: string | null;
  sizeBytes: number;
}

/** Databases of the cluster whose name is `base` or starts with it (the live one and its restore siblings). */
export async function databases(c: pg.Client, base: string): Promise<DatabaseInfo[]> {
  const { rows } = await c.query<{ name: string; owner: string; encoding: string; collate: string; ctype: string; comment: string | null; size: string }>(
    `select d.datname as name, pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding,
            d.datcollate as collate, d.datctype as ctype, shobj_description(d.oid, 'pg_database') as comment,
            case when has_database_privilege(d.datname, 'CONNECT') then pg_database_size(d.oid) else 0 end::text as size
       from pg_database d where d.datname = $1 or left(d.datname, length($1) + 1) = $1 || '_' order by d.datname`,
    [base],
  );
  return rows.map((r) => ({ ...r, sizeBytes: Number(r.size) }));
}

/** An empty database like `like` (owner, encoding, locale), for a side restore or a scratch verify. */
export async function createDatabaseLike(c: pg.Client, name: string, like: DatabaseInfo, comment: string): Promise<void> {
  await c.query(
    `create database ${ident(name)} template template0 owner ${ident(like.owner)} encoding ${literal(like.encoding)}` +
      ` lc_collate ${literal(like.collate)} lc_ctype ${literal(like.ctype)}`,
  );
  await c.query(`comment on database ${ident(name)} is ${literal(comment)}`);
}

export async function dropDatabase(c: pg.Client, name: string): Promise<void> {
  // WITH (FORCE) (PostgreSQL 13+) ends sessions still connected to a scratch database.
  await c.query(`drop database if exists ${ident(name)} with (force)`);
}

/** Ends every other session on `db`; returns how many were ended. */
export async function terminateSessions(c: pg.Client, db: string): Promise<number> {
  const { rows } = await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db]);
  return rows.length;
}

/**
 * The swap: `live` becomes `before` and `incoming` becomes `live`, in one transaction, so at every
 * moment exactly one database carries the live name. Sessions that connect between the
 * termination and the rename make it fail; it is tried again a few times.
 */
export async function swapDatabases(c: pg.Client, live: string, before: string, incoming: string, attempts = 10): Promise<void> {
  for (let i = 1; ; i++) {
    await terminateSessions(c, live);
    await terminateSessions(c, incoming);
    try {
      await c.query('begin');
      await c.query(`alter database ${ident(live)} rename to ${ident(before)}`);
      await c.query(`alter database ${ident(incoming)} rename to ${ident(live)}`);
      await c.query('commit');
      return;
    } catch (err) {
      await c.query('rollback').catch(() => {});
      // 55006: object_in_use ("being accessed by other users"): a session slipped in.
      if ((err as { code?: string }).code !== '55006' || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}
