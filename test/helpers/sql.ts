/** Small reads and writes of a test's own databases: one connection per call, always closed. */
import pg from 'pg';

export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  // A session ended by the server (a restore's swap terminates them) rejects the query in hand;
  // without a listener its 'error' event would also crash the test process.
  c.on('error', () => {});
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** The URL of another database on the same server (`postgres` for the maintenance one). */
export function otherDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** pgbench_accounts' rows, and the databases whose names start with `prefix`: what a restore test watches. */
export const accountRows = async (url: string) => Number((await query<{ n: string }>(url, 'select count(*)::text as n from pgbench_accounts'))[0].n);
export const databasesLike = async (url: string, prefix: string) =>
  (await query<{ datname: string }>(otherDatabase(url, 'postgres'), 'select datname from pg_database where datname like $1 order by 1', [`${prefix}%`])).map((r) => r.datname);
