import { resolve } from 'node:path';
import type { Env } from '../config/load.ts';
import { migrate } from './migrate.ts';
import type { Store } from './types.ts';

export type { Store, Queryable } from './types.ts';

/**
 * DATABASE_URL selects PostgreSQL; otherwise embedded PGlite under OPSBOT_DATA_DIR (./data).
 * Each backend is loaded only when chosen, so a bot on PostgreSQL never loads PGlite (see
 * docs/benchmarks.md, "memory").
 */
export async function openStore(env: Env): Promise<Store> {
  const store = env.DATABASE_URL
    ? (await import('./pg-store.ts')).createPgStore(env.DATABASE_URL)
    : await (await import('./pglite-store.ts')).createPgliteStore(resolve(env.OPSBOT_DATA_DIR ?? './data'));
  try {
    await migrate(store);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
