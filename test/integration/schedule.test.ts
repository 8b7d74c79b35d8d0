/**
 * The scheduler on a real PostgreSQL: one claim per fire across schedulers sharing a database,
 * and catch-up of fires missed while every replica was down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/core/log.ts';
import { Scheduler, type Fire } from '../../src/schedule/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { messageText, startTestBot } from '../helpers/bot.ts';
import { sleep, until } from '../helpers/wait.ts';

const log = createLogger('silent');
let url: string;
const stores: Store[] = [];

/** Another "replica": its own connection pool on the same database. */
async function store(): Promise<Store> {
  const s = await openStore({ DATABASE_URL: url });
  stores.push(s);
  return s;
}

before(async () => {
  url = await (await sharedPostgres()).createDatabase();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

describe('claims', () => {
  test('two schedulers on one database, a fire every second: each fire runs once, none is missed', async () => {
    const runs: Array<{ at: number; by: string }> = [];
    const schedulers = await Promise.all(['A', 'B'].map(async (by) => {
      const s = new Scheduler({ store: await store(), timeZone: 'UTC', log });
      s.schedule('every-second', '* * * * * *', async (fire: Fire) => {
        runs.push({ at: fire.at.getTime(), by });
        return 'ok';
      });
      return s;
    }));
    await Promise.all(schedulers.map((s) => s.start()));
    // Timers are armed from before start() resolved, so every fire after this is theirs.
    const started = Date.now();
    await sleep(5500);
    await Promise.all(schedulers.map((s) => s.stop()));
    const stopped = Date.now();

    const ats = runs.map((r) => r.at).sort((a, b) => a - b);
    assert.equal(new Set(ats).size, ats.length, `a fire ran twice: ${JSON.stringify(runs)}`);
    // Every whole second strictly inside the window was run, by one scheduler or the other.
    const expected: number[] = [];
    for (let s = Math.ceil(started / 1000) * 1000; s <= stopped - 1000; s += 1000) expected.push(s);
    assert.ok(expected.length >= 3, `window too short: ${expected.length}`);
    for (const s of expected) assert.ok(ats.includes(s), `fire at ${new Date(s).toISOString()} was missed; ran: ${ats.map((a) => new Date(a).toISOString()).join(', ')}`);
    // The claims table agrees: one row per fire, each finished ok.
    const rows = await stores[0].query<{ fire_at: Date; outcome: string }>(`select fire_at, outcome from schedule_fires where schedule = 'every-second' order by fire_at`);
    assert.deepEqual(rows.map((r) => new Date(r.fire_at).getTime()), ats);
    assert.ok(rows.every((r) => r.outcome === 'ok'), JSON.stringify(rows));
  });
});

describe('catch-up', () => {
  const at = (iso: string) => Date.parse(iso);

  /** A scheduler whose clock reads `now`, with a daily 09:00 UTC schedule. */
  async function replica(now: number, jobRuns: Fire[], notices: Array<{ at: Date; channel: string }>): Promise<Scheduler> {
    const s = new Scheduler({
      store: await store(), timeZone: 'UTC', log, now: () => now,
      missed: async (info) => {
        notices.push({ at: info.at, channel: info.channel });
      },
    });
    s.schedule('daily', '0 9 * * *', async (fire) => {
      jobRuns.push(fire);
      return 'ok';
    }, { channel: 'C0OPS', catchUp: 3_600_000 });
    return s;
  }

  test('a fire missed within catch_up runs once at start; one beyond it is reported missed once', async () => {
    const runs: Fire[] = [];
    const notices: Array<{ at: Date; channel: string }> = [];
    // First seen at 08:00: nothing to catch up, a timer for 09:00 that never fires here.
    const first = await replica(at('2026-03-01T08:00:00Z'), runs, notices);
    await first.start();
    await first.stop();
    assert.equal(runs.length, 0);

    // Every replica was down over 09:00; two start together at 09:30, within the hour.
    const pair = [await replica(at('2026-03-01T09:30:00Z'), runs, notices), await replica(at('2026-03-01T09:30:00Z'), runs, notices)];
    await Promise.all(pair.map((s) => s.start()));
    await Promise.all(pair.map((s) => s.stop()));
    assert.equal(runs.length, 1, JSON.stringify(runs));
    assert.equal(runs[0].kind, 'catch_up');
    assert.equal(runs[0].at.toISOString(), '2026-03-01T09:00:00.000Z');
    assert.equal(notices.length, 0);

    // Down again over the next 09:00; back at 12:00, three hours late: not run, told once.
    const late = [await replica(at('2026-03-02T12:00:00Z'), runs, notices), await replica(at('2026-03-02T12:00:00Z'), runs, notices)];
    await Promise.all(late.map((s) => s.start()));
    assert.equal(runs.length, 1, 'the late fire did not run');
    assert.deepEqual(notices.map((n) => [n.at.toISOString(), n.channel]), [['2026-03-02T09:00:00.000Z', 'C0OPS']]);
    const list = await late[0].list();
    assert.equal(list[0].last?.kind, 'missed');
    assert.equal(list[0].last?.outcome, 'missed');
    assert.equal(list[0].next?.toISOString(), '2026-03-03T09:00:00.000Z');
    await Promise.all(late.map((s) => s.stop()));

    // A restart with nothing missed since does nothing.
    const again = await replica(at('2026-03-02T12:05:00Z'), runs, notices);
    await again.start();
    await again.stop();
    assert.equal(runs.length, 1);
    assert.equal(notices.length, 1);
  });

  test('a changed pattern starts afresh: fires of the new pattern before the change are not caught up', async () => {
    const runs: Fire[] = [];
    const s1 = new Scheduler({ store: await store(), timeZone: 'UTC', log, now: () => at('2026-04-01T08:00:00Z') });
    s1.schedule('moved', '0 9 * * *', async (f) => void runs.push(f));
    await s1.start();
    await s1.stop();
    // Now at 10:30 with a pattern that fired at 10:00: the change happened now, so nothing was missed.
    const s2 = new Scheduler({ store: await store(), timeZone: 'UTC', log, now: () => at('2026-04-01T10:30:00Z') });
    s2.schedule('moved', '0 10 * * *', async (f) => void runs.push(f));
    await s2.start();
    await s2.stop();
    assert.equal(runs.length, 0);
  });
});

describe('catch-up in a real bot after a restart', () => {
  test('the missed recent fire runs and posts once; an old one is reported missed in its channel', async () => {
    const db = await (await sharedPostgres()).createDatabase();
    // The state a previous bot left: both schedules known since long ago, last fired long ago.
    const prior = await openStore({ DATABASE_URL: db });
    const recent = '*/10 * * * *';
    const yearly = '0 0 1 1 *';
    const longAgo = new Date(Date.now() - 400 * 86_400_000);
    for (const [name, cron] of [['recent', recent], ['yearly', yearly]]) {
      await prior.query('insert into schedule_registrations (schedule, signature, since) values ($1, $2, $3)', [name, `cron ${cron} UTC`, longAgo]);
      await prior.query(`insert into schedule_fires (schedule, fire_at, kind, claimed_by, outcome) values ($1, $2, 'fire', 'old', 'ok')`, [name, longAgo]);
    }
    await prior.close();

    const t = await startTestBot({
      targets: { local: true },
      schedules: {
        recent: { cron: recent, command: '/health host', channel: 'C0RECENT' },
        yearly: { cron: yearly, command: '/health host', channel: 'C0YEARLY', catch_up: '1h' },
      },
    }, { env: { DATABASE_URL: db } });
    try {
      const post = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0RECENT', 15_000);
      const text = messageText(post);
      assert.match(text, /host local disk/);
      assert.match(text, /Scheduled: recent, the run due at .* caught up after downtime/);
      const missed = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0YEARLY', 15_000);
      assert.match(messageText(missed), /Schedule yearly missed/);
      assert.match(messageText(missed), /past its catch-up window, so it was not run\. Next run: \d{4}-01-01 00:00:00 UTC/);
      // Once each, and the yearly command never ran.
      await t.bot.idle();
      await sleep(500);
      assert.equal(t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0RECENT').length, 1);
      assert.equal(t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0YEARLY').length, 1);
      const rows = await until('outcomes recorded', 5000, () => t.bot.store.query<{ schedule: string; kind: string; outcome: string | null }>(
        `select schedule, kind, outcome from schedule_fires where claimed_by <> 'old' order by schedule`,
      ), (r) => r.length === 2 && r.every((x) => x.outcome !== null));
      assert.deepEqual(rows.map((r) => [r.schedule, r.kind]), [['recent', 'catch_up'], ['yearly', 'missed']]);
      // /health's own status on this machine: whatever it is, it is what the post showed.
      assert.match(rows[0].outcome!, /^(ok|warn|crit)$/);
      assert.equal(rows[1].outcome, 'missed');
    } finally {
      await t.close();
    }
  });
});
