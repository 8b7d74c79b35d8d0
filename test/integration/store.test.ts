/** The bot's state store, one suite run against both backends: PostgreSQL (pg) and embedded PGlite. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AuditLog } from '../../src/core/audit.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { listMigrations, migrate } from '../../src/store/migrate.ts';
import { sharedPostgres, stopSharedPostgres } from '../harness/postgres.ts';

const tempDirs: string[] = [];
after(async () => {
  await stopSharedPostgres();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

interface Backend {
  name: string;
  /** A fresh, empty place to keep state: an env for openStore. */
  freshEnv(): Promise<Record<string, string>>;
}

const backends: Backend[] = [
  {
    name: 'postgres (pg)',
    freshEnv: async () => ({ DATABASE_URL: await (await sharedPostgres()).createDatabase() }),
  },
  {
    name: 'pglite',
    freshEnv: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'opsbot-pglite-test-'));
      tempDirs.push(dir);
      return { OPSBOT_DATA_DIR: join(dir, 'data') };
    },
  },
];

const expectedVersions = listMigrations().map((m) => m.version);

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    let env: Record<string, string>;
    let store: Store;
    let audit: AuditLog;
    const opened: Store[] = [];

    before(async () => {
      env = await backend.freshEnv();
      store = await openStore(env);
      opened.push(store);
      audit = new AuditLog(store);
    });
    after(async () => {
      for (const s of opened) await s.close();
    });

    test('state goes where the environment says: the database in DATABASE_URL, or a data dir under OPSBOT_DATA_DIR', async () => {
      await audit.record({ actor: 'U0WHERE', command: 'health', outcome: 'ok' });
      if (env.DATABASE_URL) {
        assert.equal(store.kind, 'postgres');
        // Another client on that database sees what the store wrote.
        const raw = new pg.Client({ connectionString: env.DATABASE_URL });
        await raw.connect();
        try {
          const { rows } = await raw.query("select current_database() as db, (select count(*)::int from audit_events where actor = 'U0WHERE') as n");
          assert.deepEqual(rows[0], { db: new URL(env.DATABASE_URL).pathname.slice(1), n: 1 });
        } finally {
          await raw.end();
        }
      } else {
        assert.equal(store.kind, 'pglite');
        // A PostgreSQL data directory on disk, where the bot was told to keep its state.
        const dir = env.OPSBOT_DATA_DIR;
        const files = readdirSync(dir);
        assert.ok(existsSync(join(dir, 'PG_VERSION')), `no PG_VERSION in ${dir}: ${files.slice(0, 20).join(', ')}`);
        // The server that answers is the one whose major version that directory was made for.
        const [{ v }] = await store.query<{ v: string }>("select current_setting('server_version') as v");
        assert.equal(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim(), String(parseInt(v, 10)), `server_version ${v}`);
      }
    });

    test('openStore applies the migrations: opsbot_migrations lists version 1 and every file', async () => {
      const rows = await store.query<{ version: number; name: string }>('select version, name from opsbot_migrations order by version');
      assert.ok(expectedVersions.includes(1), 'migration 001 exists');
      assert.deepEqual(rows.map((r) => Number(r.version)), expectedVersions);
      assert.match(rows[0].name, /^001_/);
      const [t] = await store.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_name = 'audit_events'");
      assert.equal(t.n, 1);
    });

    test('running migrate() again applies nothing and changes nothing', async () => {
      const before = await store.query('select version, name, applied_at from opsbot_migrations order by version');
      assert.deepEqual(await migrate(store), []);
      assert.deepEqual(await store.query('select version, name, applied_at from opsbot_migrations order by version'), before);
    });

    test('ping answers while the store can answer, and fails once it cannot', async () => {
      // A store of its own: this one is taken away.
      const own = await openStore(await backend.freshEnv());
      opened.push(own);
      await own.ping();
      if (own.kind === 'postgres') {
        const [{ db }] = await own.query<{ db: string }>('select current_database() as db');
        const admin = await (await sharedPostgres()).createDatabase();
        const raw = new pg.Client({ connectionString: admin });
        await raw.connect();
        try {
          await raw.query(`drop database "${db}" with (force)`);
        } finally {
          await raw.end();
        }
        await assert.rejects(own.ping(), /terminat|does not exist|Connection terminated/i);
      } else {
        await own.close();
        await assert.rejects(own.ping());
      }
    });

    test('record() then recent(): newest first, with limit and actor filter', async () => {
      const events = [
        { actor: 'U0A', command: 'health', outcome: 'ok' },
        { actor: 'U0B', command: 'logs', outcome: 'invalid' },
        { actor: 'U0A', command: 'restart', outcome: 'denied' },
        { actor: 'U0A', command: 'backup', outcome: 'error' },
        { actor: 'U0B', command: 'health', outcome: 'warn' },
      ];
      for (const e of events) await audit.record({ ...e, channel: 'C0OPS', args: `${e.command} args` });

      const all = await audit.recent({ limit: 100 });
      assert.deepEqual(all.slice(0, 5).map((r) => r.command), ['health', 'backup', 'restart', 'logs', 'health']);
      assert.deepEqual(all.slice(0, 5).map((r) => r.actor), ['U0B', 'U0A', 'U0A', 'U0B', 'U0A']);

      const two = await audit.recent({ limit: 2 });
      assert.deepEqual(two.map((r) => r.command), ['health', 'backup']);

      const a = await audit.recent({ actor: 'U0A' });
      assert.deepEqual(a.map((r) => r.command), ['backup', 'restart', 'health']);
      assert.ok(a.every((r) => r.actor === 'U0A'), 'only U0A rows');
      const aOne = await audit.recent({ actor: 'U0A', limit: 1 });
      assert.deepEqual(aOne.map((r) => r.command), ['backup']);
      assert.deepEqual(await audit.recent({ actor: 'U0NOBODY' }), []);
    });

    test('a row carries what was recorded, with nulls and defaults for what was not', async () => {
      const t0 = Date.now();
      await audit.record({ actor: 'U0FIELDS', command: 'health', outcome: 'ok' });
      await audit.record({ actor: 'U0FIELDS', channel: 'C0X', command: 'boom', args: '--how x', outcome: 'error', ref: 'deadbeef' });
      const [full, bare] = await audit.recent({ actor: 'U0FIELDS' });
      assert.equal(full.channel, 'C0X');
      assert.equal(full.args, '--how x');
      assert.equal(full.ref, 'deadbeef');
      assert.equal(full.outcome, 'error');
      assert.equal(bare.channel, null);
      assert.equal(bare.ref, null);
      assert.equal(bare.args, '');
      assert.deepEqual(bare.detail, {});
      assert.ok(bare.at instanceof Date, `at is ${typeof bare.at}`);
      assert.ok(Math.abs(bare.at.getTime() - t0) < 60_000, `at ${bare.at.toISOString()} is now`);
      assert.ok(full.at.getTime() >= bare.at.getTime(), 'later row has a later or equal time');
    });

    test('row ids are strings, as AuditRow declares, on every backend', async () => {
      await audit.record({ actor: 'U0ID', command: 'health', outcome: 'ok' });
      const [row] = await audit.recent({ actor: 'U0ID' });
      assert.equal(typeof row.id, 'string');
      assert.match(String(row.id), /^\d+$/);
    });

    test('detail is jsonb and round-trips nested values', async () => {
      const detail = { ms: 12, nested: { list: [1, 'two', { three: true }], none: null }, text: '健康 <&> "quoted"', big: 2 ** 40 };
      await audit.record({ actor: 'U0JSON', command: 'health', outcome: 'ok', detail });
      const [row] = await audit.recent({ actor: 'U0JSON' });
      assert.deepEqual(row.detail, detail);
      const [t] = await store.query<{ t: string }>("select jsonb_typeof(detail) as t from audit_events where actor = 'U0JSON'");
      assert.equal(t.t, 'object', 'stored as a JSON object, not a JSON string');
      const [q] = await store.query<{ v: number }>("select (detail->'nested'->'list'->>0)::int as v from audit_events where actor = 'U0JSON'");
      assert.equal(q.v, 1, 'queryable with jsonb operators');
    });

    test('state survives closing and reopening, and reopening applies no migration', async () => {
      await audit.record({ actor: 'U0PERSIST', command: 'health', outcome: 'ok' });
      if (store.kind === 'pglite') {
        // One process may hold a PGlite data dir at a time.
        await store.close();
      }
      const again = await openStore(env);
      opened.push(again);
      const rows = await new AuditLog(again).recent({ actor: 'U0PERSIST' });
      assert.equal(rows.length, 1);
      const versions = await again.query<{ n: number }>('select count(*)::int as n from opsbot_migrations');
      assert.equal(versions[0].n, expectedVersions.length);
      assert.deepEqual(await migrate(again), []);
      await again.ping();
    });
  });
}

describe('store on postgres: concurrent start-up', () => {
  test('several replicas opening the same fresh database all succeed, migrations applied once', async () => {
    const url = await (await sharedPostgres()).createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ DATABASE_URL: url })));
    try {
      const rows = await stores[0].query<{ version: number }>('select version from opsbot_migrations order by version');
      assert.deepEqual(rows.map((r) => Number(r.version)), expectedVersions);
      for (const s of stores) await s.ping();
      await new AuditLog(stores[1]).record({ actor: 'U0R', command: 'health', outcome: 'ok' });
      assert.equal((await new AuditLog(stores[3]).recent({ actor: 'U0R' })).length, 1, 'all replicas see one database');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('openStore fails cleanly on an unreachable database', async () => {
    await assert.rejects(openStore({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }));
  });
});
