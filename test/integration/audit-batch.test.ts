/**
 * AuditLog against real PostgreSQL: rows of read-only commands go in multi-row batches, a failed
 * batch is retried rather than dropped, write-ahead rows skip the batch, and text PostgreSQL cannot
 * store (NUL, lone surrogates) is made storable in every column and in the JSON detail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuditLog } from '../../src/core/audit.ts';
import { pino } from 'pino';
import { openStore, type Store } from '../../src/store/index.ts';
import { sharedPostgres } from '../harness/postgres.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audit log', () => {
  let store: Store;
  const count = async (actor: string) => (await store.query<{ n: number }>('select count(*)::int n from audit_events where actor = $1', [actor]))[0].n;

  before(async () => {
    store = await openStore({ DATABASE_URL: await (await sharedPostgres()).createDatabase() });
  });
  after(async () => {
    await store?.close();
  });

  test('NUL bytes and lone surrogates are stored, in every column and in the detail', async () => {
    const audit = new AuditLog(store);
    await audit.record({
      actor: 'U0NUL', channel: 'C0\u0000X', command: 'health', args: 'a\u0000b \ud800 c\udfff', outcome: 'ok', ref: 'r\u0000',
      detail: { 'k\u0000': 'v\u0000', list: ['\ud83d', 1], nested: { s: 'x\u0000y' } },
    });
    const [row] = await store.query<{ channel: string; args: string; ref: string; detail: Record<string, unknown> }>("select channel, args, ref, detail from audit_events where actor = 'U0NUL'");
    assert.equal(row.args, 'a\u2400b \ufffd c\ufffd');
    assert.equal(row.channel, 'C0\u2400X');
    assert.equal(row.ref, 'r\u2400');
    assert.deepEqual(row.detail, { 'k\u2400': 'v\u2400', list: ['\ufffd', 1], nested: { s: 'x\u2400y' } });
  });

  test('read-only rows are batched into few inserts; write-ahead rows are in the table at once', async () => {
    let inserts = 0;
    const counting = { query: <T,>(sql: string, params?: unknown[]) => (inserts++, store.query<T>(sql, params)), exec: (sql: string) => store.exec(sql) };
    const audit = new AuditLog(counting, { rows: 50, intervalMs: 200, maxBuffered: 1000, writeAhead: (e) => e.command === 'restart' });
    await Promise.all(Array.from({ length: 120 }, (_, i) => audit.record({ actor: 'U0BATCH', command: 'health', args: String(i), outcome: 'ok' })));
    // Queued, not all written yet: the first row went at once, the rest wait for the interval or a full batch.
    assert.ok(audit.backlog > 0, 'rows wait for their batch');
    await audit.record({ actor: 'U0WA', command: 'restart', outcome: 'approval.started' });
    assert.equal(await count('U0WA'), 1, 'a write-ahead row is written before record() resolves');
    await audit.flush();
    assert.equal(audit.backlog, 0);
    assert.equal(await count('U0BATCH'), 120);
    // 1 at once, then batches of at most 50, plus the write-ahead row: 4 or 5 inserts, not 121.
    assert.ok(inserts >= 4 && inserts <= 5, `${inserts} inserts`);
    // Rows arrive in insertion order within and across batches.
    const args = (await store.query<{ args: string }>("select args from audit_events where actor = 'U0BATCH' order by id")).map((r) => Number(r.args));
    assert.deepEqual(args, Array.from({ length: 120 }, (_, i) => i));
  });

  test('a failed batch is logged and retried until it is written, and flush() waits for it', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const audit = new AuditLog(store, { rows: 10, intervalMs: 50, maxBuffered: 1000, log });
    await store.query('alter table audit_events rename to audit_events_away');
    try {
      await Promise.all(Array.from({ length: 15 }, (_, i) => audit.record({ actor: 'U0RETRY', command: 'health', args: String(i), outcome: 'ok' })));
      await sleep(700);
      assert.equal(audit.backlog, 15, 'nothing was dropped while the table was away');
    } finally {
      await store.query('alter table audit_events_away rename to audit_events');
    }
    await audit.flush();
    assert.equal(await count('U0RETRY'), 15);
    assert.ok(lines.some((l) => /audit batch failed; retrying/.test(l)), `the failure was logged: ${lines.join('')}`);
  });

  test('when the buffer is full, record() waits for room instead of growing it', async () => {
    const audit = new AuditLog(store, { rows: 5, intervalMs: 50, maxBuffered: 5 });
    await store.query('alter table audit_events rename to audit_events_away');
    let settled = 0;
    const pending: Array<Promise<void>> = [];
    try {
      for (let i = 0; i < 8; i++) pending.push(audit.record({ actor: 'U0FULL', command: 'health', outcome: 'ok' }).then(() => void settled++));
      await sleep(300);
      assert.equal(audit.backlog, 5);
      assert.equal(settled, 5, 'the three beyond the buffer wait');
    } finally {
      await store.query('alter table audit_events_away rename to audit_events');
    }
    await Promise.all(pending);
    await audit.flush();
    assert.equal(await count('U0FULL'), 8);
  });
});
