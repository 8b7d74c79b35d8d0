/**
 * The per-user rate limit kept in the state store: the in-memory limiter's behaviour
 * (test/unit/rate-limit.test.ts), on both backends, plus what only a shared store can show:
 * two limiters (two replicas) on one database share the count, concurrent takes never admit more
 * than the limit, and a store that does not answer lets commands through.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/core/log.ts';
import { SharedRateLimiter } from '../../src/core/shared-rate-limit.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { Queryable } from '../../src/store/types.ts';
import { sharedPostgres } from '../harness/postgres.ts';

const log = createLogger('silent');
const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function clock(start = 1_700_000_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

const backends = [
  { name: 'postgres (pg)', env: async () => ({ DATABASE_URL: await (await sharedPostgres()).createDatabase() }) },
  {
    name: 'pglite',
    env: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'opsbot-ratelimit-'));
      tempDirs.push(dir);
      return { OPSBOT_DATA_DIR: join(dir, 'data') };
    },
  },
];

for (const backend of backends) {
  describe(`shared rate limit on ${backend.name}`, () => {
    let store: Store;
    let n = 0;
    /** A key of its own per test: the tests share one database. */
    const key = () => `U${++n}-${backend.name}`;
    before(async () => {
      store = await openStore(await backend.env());
    });
    after(async () => {
      await store?.close();
    });

    test('60 requests in a minute are allowed, the 61st is refused', async () => {
      const c = clock();
      const rl = new SharedRateLimiter(store, 60, log, { now: c.fn });
      const u = key();
      for (let i = 0; i < 60; i++) {
        assert.equal(await rl.take(u), 0, `request ${i + 1}`);
        c.now += 100;
      }
      assert.notEqual(await rl.take(u), 0, 'refused');
    });

    test('the wait is the time until the oldest request leaves the window; refusals do not count', async () => {
      const c = clock();
      const start = c.now;
      const rl = new SharedRateLimiter(store, 60, log, { now: c.fn });
      const u = key();
      for (let i = 0; i < 60; i++) {
        await rl.take(u);
        c.now += 500;
      }
      c.now = start + 40_000;
      assert.equal(await rl.take(u), 20_000);
      c.now = start + 59_999;
      assert.equal(await rl.take(u), 1, 'refusals do not count as requests');
    });

    test('the window slides: old requests free slots one by one', async () => {
      const c = clock();
      const start = c.now;
      const rl = new SharedRateLimiter(store, 3, log, { now: c.fn });
      const u = key();
      assert.equal(await rl.take(u), 0);
      c.now = start + 10_000;
      assert.equal(await rl.take(u), 0);
      c.now = start + 20_000;
      assert.equal(await rl.take(u), 0);
      c.now = start + 30_000;
      assert.equal(await rl.take(u), 30_000);
      c.now = start + 60_000;
      assert.equal(await rl.take(u), 0, 'the t=0 request has left the window');
      assert.equal(await rl.take(u), 10_000, 'only one slot was freed; next frees when t=10s leaves');
      c.now = start + 70_000;
      assert.equal(await rl.take(u), 0);
    });

    test('users are limited independently', async () => {
      const c = clock();
      const rl = new SharedRateLimiter(store, 2, log, { now: c.fn });
      const [u1, u2] = [key(), key()];
      assert.equal(await rl.take(u1), 0);
      assert.equal(await rl.take(u1), 0);
      assert.notEqual(await rl.take(u1), 0, 'refused');
      assert.equal(await rl.take(u2), 0, 'u1 being limited does not affect u2');
      assert.equal(await rl.take(u2), 0);
      assert.notEqual(await rl.take(u2), 0, 'refused');
    });

    test('two limiters on one store (two replicas) share the count', async () => {
      const c = clock();
      const a = new SharedRateLimiter(store, 4, log, { now: c.fn });
      const b = new SharedRateLimiter(store, 4, log, { now: c.fn });
      const u = key();
      const waits = [];
      for (let i = 0; i < 6; i++) {
        waits.push(await (i % 2 ? b : a).take(u));
        c.now += 1000;
      }
      assert.deepEqual(waits.map((w) => w > 0), [false, false, false, false, true, true]);
    });

    test('by default it uses the database clock', async () => {
      const rl = new SharedRateLimiter(store, 1, log);
      const u = key();
      assert.equal(await rl.take(u), 0);
      const wait = await rl.take(u);
      assert.ok(wait > 55_000 && wait <= 60_000, String(wait));
    });
  });
}

describe('shared rate limit under concurrency, and without a store', () => {
  test('concurrent takes from many clients admit exactly the limit', async () => {
    const url = await (await sharedPostgres()).createDatabase();
    const stores = await Promise.all([openStore({ DATABASE_URL: url }), openStore({ DATABASE_URL: url }), openStore({ DATABASE_URL: url })]);
    try {
      const limiters = stores.map((s) => new SharedRateLimiter(s, 10, log));
      const waits = await Promise.all(Array.from({ length: 60 }, (_, i) => limiters[i % 3].take('U0STORM')));
      assert.equal(waits.filter((w) => w === 0).length, 10);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a store that fails or hangs lets commands through (counted per process) and says so in the log', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (l: string) => void lines.push(l) });
    const failing: Queryable = { query: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:5432'); }, exec: async () => {} };
    const hanging: Queryable = { query: () => new Promise(() => {}), exec: async () => {} };
    for (const store of [failing, hanging]) {
      const rl = new SharedRateLimiter(store, 2, logger, { timeoutMs: 200 });
      assert.equal(await rl.take('U1'), 0);
      assert.equal(await rl.take('U1'), 0);
      assert.notEqual(await rl.take('U1'), 0, 'still limited, by this process alone');
    }
    assert.ok(lines.some((l) => /state store did not answer/.test(l)), lines.join('\n'));
  });
});
