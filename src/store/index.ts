import { resolve } from 'node:path';
import type { Env } from '../config/load.ts';
import { migrate } from './migrate.ts';
import { createPgStore } from './pg-store.ts';
import { createPgliteStore } from './pglite-store.ts';
import type { Store } from './types.ts';

export type { Store, Queryable } from './types.ts';

/** DATABASE_URL selects PostgreSQL; otherwise embedded PGlite under OPSBOT_DATA_DIR (./data). */
export async function openStore(env: Env): Promise<Store> {
  const store = env.DATABASE_URL
    ? createPgStore(env.DATABASE_URL)
    : await createPgliteStore(resolve(env.OPSBOT_DATA_DIR ?? './data'));
  try {
    await migrate(store);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
