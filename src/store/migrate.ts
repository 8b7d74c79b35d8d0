import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Store } from './types.ts';

// Beside this file when run from the sources; `npm start` runs a bundle in dist/, which reads
// them from the sources.
const DIR = ['./migrations/', '../src/store/migrations/']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((d) => existsSync(d)) ?? fileURLToPath(new URL('./migrations/', import.meta.url));
// Arbitrary constant: serialises migrations when several replicas start at once.
const LOCK_KEY = 7_210_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Files named NNN_name.sql, in version order. */
export function listMigrations(dir = DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .map((f) => ({ version: Number.parseInt(f, 10), name: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/** Applies pending migrations, each in its own transaction; returns the versions applied. */
export async function migrate(store: Store, migrations = listMigrations()): Promise<number[]> {
  return store.session(async (q) => {
    if (store.kind === 'postgres') await q.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await q.exec(`create table if not exists opsbot_migrations (
        version integer primary key, name text not null, applied_at timestamptz not null default now())`);
      const done = new Set((await q.query<{ version: number }>('select version from opsbot_migrations')).map((r) => r.version));
      const applied: number[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        const name = m.name.replace(/'/g, "''");
        await q.exec(`begin;\n${m.sql}\n;insert into opsbot_migrations (version, name) values (${m.version}, '${name}');\ncommit;`);
        applied.push(m.version);
      }
      return applied;
    } catch (err) {
      await q.exec('rollback').catch(() => {});
      throw err;
    } finally {
      if (store.kind === 'postgres') await q.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}
