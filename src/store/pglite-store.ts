import { mkdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import type { Store } from './types.ts';

/** Embedded PostgreSQL (WASM) under a data dir: zero setup for a single bot instance. */
export async function createPgliteStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  // bigint columns come back as strings, as they do from pg, so both backends return the same rows.
  const db = await PGlite.create(dataDir, { parsers: { [types.INT8]: (v: string) => v } });
  const store: Store = {
    kind: 'pglite',
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async transaction(fn) {
      return db.transaction(async (tx) =>
        fn({
          async query<T>(sql: string, params?: unknown[]) {
            return (await tx.query<T>(sql, params)).rows;
          },
          async exec(sql: string) {
            await tx.exec(sql);
          },
        }),
      );
    },
    // PGlite has exactly one connection, so every call is already one session.
    session: (fn) => fn(store),
    async ping() {
      await db.query('select 1');
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
  return store;
}
