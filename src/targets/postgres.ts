import pg from 'pg';
import type { PgSession, PostgresExecutor, PostgresHealth, SessionOptions } from './types.ts';

/** Quotes an identifier for SQL with the driver's own quoting; values never go this way, they are parameters. */
export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);

/** Where a URL points, without credentials, for messages. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

export class PostgresTarget implements PostgresExecutor {
  readonly where: string;
  private readonly pool: pg.Pool;

  constructor(readonly name: string, private readonly url: string, private readonly timeoutMs: number) {
    this.where = describeUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: 3,
      // A server that accepts TCP but never answers must not hold a client forever. A moment
      // later than the caller's own timeout, which names the limit ("timeout after 1 s"), so
      // that on a busy machine the driver's vaguer message does not win the race.
      connectionTimeoutMillis: timeoutMs + 250,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'opsbot',
    });
    // Errors on idle clients (server restarted) are reported by the next query instead.
    this.pool.on('error', () => {});
    // The same for a client that dies while checked out; its query rejects and reports the error.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  async health(): Promise<PostgresHealth> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    try {
      const t0 = performance.now();
      await client.query('select 1');
      const latencyMs = performance.now() - t0;
      // The longest transaction is this database's (another database's sessions are not this
      // target's problem), aged by clock_timestamp(): now() is when this statement's own
      // transaction began, so a transaction that started a moment later would read as negative.
      const { rows } = await client.query<{
        version: string; database: string; connections: number; max_connections: number;
        longest_ms: number | null; longest_pid: number | null; size: string;
      }>(`select current_setting('server_version') as version,
                 current_database() as database,
                 (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as connections,
                 current_setting('max_connections')::int as max_connections,
                 (select greatest(0, extract(epoch from clock_timestamp() - xact_start) * 1000)::float8 from pg_stat_activity
                   where xact_start is not null and pid <> pg_backend_pid() and datname = current_database() order by xact_start limit 1) as longest_ms,
                 (select pid from pg_stat_activity
                   where xact_start is not null and pid <> pg_backend_pid() and datname = current_database() order by xact_start limit 1) as longest_pid,
                 pg_database_size(current_database())::text as size`);
      const r = rows[0];
      return {
        latencyMs,
        version: r.version,
        database: r.database,
        connections: r.connections,
        maxConnections: r.max_connections,
        longestTransactionMs: r.longest_ms,
        longestTransactionPid: r.longest_pid,
        databaseSizeBytes: Number(r.size),
      };
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      // A failed client may be broken (timeout mid-query); passing the error discards it.
      client.release(failure);
    }
  }

  async query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query(sql, params)).rows as R[];
  }

  async session<T>(fn: (s: PgSession) => Promise<T>, opts: SessionOptions = {}): Promise<T> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.timeoutMs,
      statement_timeout: opts.statementTimeoutMs ?? this.timeoutMs,
      lock_timeout: opts.lockTimeoutMs ?? 0,
      application_name: 'opsbot',
    });
    client.on('error', () => {}); // a dropped connection fails the query in hand instead
    await client.connect();
    try {
      const { rows: [{ pid }] } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      // Stop: the server is asked to cancel what this backend runs; the statement then fails
      // with query_canceled, and whatever it had half built is the caller's to clean up.
      const cancel = () => void this.pool.query('select pg_cancel_backend($1)', [pid]).catch(() => {});
      opts.signal?.addEventListener('abort', cancel, { once: true });
      try {
        if (opts.signal?.aborted) throw opts.signal.reason;
        return await fn({
          pid,
          query: async <R>(sql: string, params: unknown[] = [], q: { single?: boolean } = {}) =>
            (await client.query({ text: sql, values: params, ...(q.single ? { queryMode: 'extended' as const } : {}) })).rows as R[],
        });
      } finally {
        opts.signal?.removeEventListener('abort', cancel);
      }
    } finally {
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
