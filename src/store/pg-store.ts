import pg from 'pg';
import type { Queryable, Store } from './types.ts';

/** State in a real PostgreSQL (DATABASE_URL); safe for several bot replicas. */
export function createPgStore(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 5, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // An idle client that loses its server emits 'error'; without a listener that would crash the bot.
  pool.on('error', () => {});
  // pg-pool listens for errors only on idle clients; one that dies while checked out (server
  // restarted mid-query) would otherwise emit an unhandled 'error' and take the bot down.
  pool.on('connect', (client) => client.on('error', () => {}));
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      return (await q.query(sql, params as unknown[])).rows as T[];
    },
    async exec(sql: string) {
      await q.query(sql);
    },
  });
  const base = wrap(pool);
  return {
    kind: 'postgres',
    query: base.query,
    exec: base.exec,
    async transaction(fn) {
      const client = await pool.connect();
      let failure: Error | undefined;
      try {
        await client.query('begin');
        const result = await fn(wrap(client));
        await client.query('commit');
        return result;
      } catch (err) {
        failure = err as Error;
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        // A connection that failed mid-transaction is discarded rather than reused.
        client.release(failure && !(failure as { code?: string }).code ? failure : undefined);
      }
    },
    async session(fn) {
      const client = await pool.connect();
      try {
        return await fn(wrap(client));
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}
