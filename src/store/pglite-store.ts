import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite, types } from '@electric-sql/pglite';
import type { Store } from './types.ts';

/**
 * Server settings for the embedded PostgreSQL, on top of PGlite's own start parameters. The
 * data dir's postgresql.conf (written by initdb for a server with 100 connections and 128 MB of
 * shared buffers) is overridden here, so they apply to data dirs made by earlier versions too.
 * PostgreSQL writes to all of its shared memory when it starts, so every MB here is a MB of RSS,
 * and PGlite runs a single backend that holds a few small tables: the defaults cost about 140 MB
 * (see docs/benchmarks.md, "memory").
 */
export const PGLITE_SETTINGS: Record<string, string> = {
  shared_buffers: '4MB',
  // Sizes the lock table and the per-backend arrays; one backend uses one of them.
  max_connections: '10',
  autovacuum_worker_slots: '1',
  max_wal_senders: '0',
  max_replication_slots: '0',
  wal_buffers: '256kB',
  // Working memory of one sort or hash before it spills to disk, and of index builds: PGlite's
  // heap (WebAssembly memory) never shrinks, so a peak stays resident for the life of the bot.
  work_mem: '1MB',
  maintenance_work_mem: '4MB',
  temp_buffers: '1MB',
};

export function pgliteStartParams(settings = PGLITE_SETTINGS): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

/**
 * Compile WebAssembly with V8's baseline compiler only. By default V8 also recompiles the hot
 * functions of PGlite's 9 MB module with its optimizing compiler, which keeps about 55 MB of
 * extra code resident; the store's queries are small, so the faster code buys nothing that
 * matters. Applies to modules compiled from now on, so it must run before PGlite starts.
 */
let baselineOnly = false;
function wasmBaselineOnly(): void {
  if (baselineOnly) return;
  baselineOnly = true;
  setFlagsFromString('--liftoff-only');
}

/**
 * An empty data dir needs initdb, which runs a second PostgreSQL and initdb's own WebAssembly
 * beside the first and roughly doubles the process's memory until a garbage collection. That
 * peak happens in a short-lived child process instead, so the bot starts at the size it keeps.
 */
async function initDataDir(dataDir: string): Promise<void> {
  // i18n-exempt: JavaScript run by a child process, not text
  const script = `const [url, dir] = process.argv.slice(1);
const { PGlite } = await import(url);
const db = await PGlite.create(dir);
await db.close();`;
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script, import.meta.resolve('@electric-sql/pglite'), dataDir], { timeout: 300_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`could not create the state database in ${dataDir}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Embedded PostgreSQL (WASM) under a data dir: zero setup for a single bot instance. */
export async function createPgliteStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initDataDir(dataDir);
  wasmBaselineOnly();
  // bigint columns come back as strings, as they do from pg, so both backends return the same rows.
  const db = await PGlite.create(dataDir, { parsers: { [types.INT8]: (v: string) => v }, startParams: pgliteStartParams() });
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
