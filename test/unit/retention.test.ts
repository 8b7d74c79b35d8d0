/**
 * Backup retention (grandfather-father-son in the configured time zone). Expected sets are written
 * out by hand from a calendar, not derived from the function, so a wrong rule makes a test fail.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { retention, type Keep, type RetentionItem } from '../../src/backup/retention.ts';

const SH = 'Asia/Shanghai';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One ok backup per local day at 02:00 Shanghai time, `days` days ending on `lastDay`; id = the local date. */
function dailyBackups(lastDay: string, days: number): RetentionItem[] {
  const last = Date.parse(`${lastDay}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => {
    const id = new Date(last - i * DAY).toISOString().slice(0, 10);
    return { id, startedAt: new Date(`${id}T02:00:00+08:00`), state: 'ok' as const };
  });
}

/** Deterministic shuffle: the function must not rely on input order. */
function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  let seed = 12345;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function keptIds(items: RetentionItem[], keep: Keep, now: Date, timeZone = SH): string[] {
  return retention(items, keep, { now, timeZone })
    .filter((d) => d.keep)
    .map((d) => d.id)
    .sort();
}

describe('retention', () => {
  test('400 daily backups, keep {7,4,6}: exactly the GFS set by hand', () => {
    const now = new Date('2026-12-03T09:00:00+08:00'); // a Thursday
    const items = dailyBackups('2026-12-03', 400);
    const daily = ['2026-12-03', '2026-12-02', '2026-12-01', '2026-11-30', '2026-11-29', '2026-11-28', '2026-11-27'];
    // ISO weeks: Mon 11-30..Thu 12-03 (newest is today), then the Sundays closing the 3 weeks before.
    const weekly = ['2026-12-03', '2026-11-29', '2026-11-22', '2026-11-15'];
    // Months: December's newest is today, then the last day of each of the 5 months before.
    const monthly = ['2026-12-03', '2026-11-30', '2026-10-31', '2026-09-30', '2026-08-31', '2026-07-31'];
    const union = [...new Set([...daily, ...weekly, ...monthly])].sort();
    assert.equal(union.length, 13);

    const decisions = retention(shuffled(items), { daily: 7, weekly: 4, monthly: 6 }, { now, timeZone: SH });
    assert.equal(decisions.length, 400);
    const kept = decisions.filter((d) => d.keep).map((d) => d.id).sort();
    assert.deepEqual(kept, union);
    assert.equal(kept.length, union.length);

    // Sorted newest first, and each keeper carries every reason that applies.
    assert.deepEqual(decisions.map((d) => d.id), items.map((i) => i.id));
    const byId = new Map(decisions.map((d) => [d.id, d.reasons]));
    assert.deepEqual(byId.get('2026-12-03'), ['daily', 'weekly', 'monthly', 'newest']);
    assert.deepEqual(byId.get('2026-11-30'), ['daily', 'monthly']);
    assert.deepEqual(byId.get('2026-11-29'), ['daily', 'weekly']);
    assert.deepEqual(byId.get('2026-11-15'), ['weekly']);
    assert.deepEqual(byId.get('2026-07-31'), ['monthly']);
    assert.deepEqual(byId.get('2026-11-26'), []);
  });

  test('ISO weeks span the new year: 2027-01-01/02 share a week with 2026-12-28..31', () => {
    const now = new Date('2027-01-02T12:00:00+08:00'); // Saturday of 2026-W53
    const items = dailyBackups('2027-01-02', 30);
    // Week Mon 2026-12-28..Sun 2027-01-03 -> newest 01-02; the week before ends Sunday 2026-12-27.
    assert.deepEqual(keptIds(items, { daily: 0, weekly: 2, monthly: 0 }, now), ['2026-12-27', '2027-01-02']);
    // Months do split at the new year.
    assert.deepEqual(keptIds(items, { daily: 0, weekly: 0, monthly: 2 }, now), ['2026-12-31', '2027-01-02']);
  });

  test('two backups on one day: only the newer is that day\'s keeper', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items: RetentionItem[] = [
      { id: 'early', startedAt: new Date('2026-12-03T01:00:00+08:00'), state: 'ok' },
      { id: 'late', startedAt: new Date('2026-12-03T05:00:00+08:00'), state: 'ok' },
      { id: 'yesterday', startedAt: new Date('2026-12-02T05:00:00+08:00'), state: 'ok' },
    ];
    const decisions = retention(items, { daily: 2, weekly: 0, monthly: 0 }, { now, timeZone: SH });
    assert.deepEqual(decisions, [
      { id: 'late', keep: true, reasons: ['daily', 'newest'] },
      { id: 'early', keep: false, reasons: [] },
      { id: 'yesterday', keep: true, reasons: ['daily'] },
    ]);
  });

  test('the newest verified backup is kept even when far older than every tier', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items = dailyBackups('2026-12-03', 60); // none verified
    const verify = (id: string, ok: boolean) => {
      const it = items.find((i) => i.id === id)!;
      it.verifiedAt = new Date(it.startedAt.getTime() + HOUR);
      it.verifyOk = ok;
    };
    verify('2026-10-20', true); // the one that must survive
    verify('2026-10-10', true); // older verified: not the newest, goes
    verify('2026-11-20', false); // newer, but its verification failed: doesn't count
    const decisions = retention(items, { daily: 1, weekly: 0, monthly: 0 }, { now, timeZone: SH });
    const kept = decisions.filter((d) => d.keep);
    assert.deepEqual(kept, [
      { id: '2026-12-03', keep: true, reasons: ['daily', 'newest'] },
      { id: '2026-10-20', keep: true, reasons: ['newest_verified'] },
    ]);
  });

  test('day boundaries follow the configured time zone', () => {
    const now = new Date('2026-12-03T06:00:00Z');
    const items: RetentionItem[] = [
      { id: 'a', startedAt: new Date('2026-12-02T17:30:00Z'), state: 'ok' }, // Shanghai 12-03 01:30, UTC 12-02
      { id: 'b', startedAt: new Date('2026-12-03T03:00:00Z'), state: 'ok' }, // 12-03 in both
      { id: 'c', startedAt: new Date('2026-12-01T12:00:00Z'), state: 'ok' }, // 12-01 in both
    ];
    const keep = { daily: 2, weekly: 0, monthly: 0 };
    // Shanghai: a shares 12-03 with the newer b, so the second day kept is 12-01 (c).
    assert.deepEqual(keptIds(items, keep, now, SH), ['b', 'c']);
    // UTC: a is alone on 12-02, the second most recent day, and c drops out.
    assert.deepEqual(keptIds(items, keep, now, 'UTC'), ['a', 'b']);
  });

  test('failed backups go once older than a day; a fresh failure stays and counts for no tier', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items: RetentionItem[] = [
      { id: 'failed-1h', startedAt: new Date(now.getTime() - HOUR), state: 'failed' },
      { id: 'ok-2h', startedAt: new Date(now.getTime() - 2 * HOUR), state: 'ok' },
      { id: 'failed-25h', startedAt: new Date(now.getTime() - 25 * HOUR), state: 'failed' },
      { id: 'failed-10d', startedAt: new Date(now.getTime() - 10 * DAY), state: 'failed' },
    ];
    // Generous tiers: a failed backup would be kept if it were allowed to count.
    const decisions = retention(items, { daily: 30, weekly: 10, monthly: 12 }, { now, timeZone: SH });
    assert.deepEqual(decisions, [
      { id: 'failed-1h', keep: true, reasons: ['recent_failed'] },
      { id: 'ok-2h', keep: true, reasons: ['daily', 'weekly', 'monthly', 'newest'] },
      { id: 'failed-25h', keep: false, reasons: [] },
      { id: 'failed-10d', keep: false, reasons: [] },
    ]);
  });

  test('keep all zeros still keeps the newest ok backup', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items = [
      ...dailyBackups('2026-12-02', 10),
      { id: 'failed-today', startedAt: new Date('2026-12-03T02:00:00+08:00'), state: 'failed' as const },
    ];
    const decisions = retention(items, { daily: 0, weekly: 0, monthly: 0 }, { now, timeZone: SH });
    const kept = decisions.filter((d) => d.keep);
    assert.deepEqual(kept, [
      { id: 'failed-today', keep: true, reasons: ['recent_failed'] },
      { id: '2026-12-02', keep: true, reasons: ['newest'] },
    ]);
  });

  test('a backup from the future is kept and takes no slot from real ones', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items: RetentionItem[] = [
      { id: 'future', startedAt: new Date('2026-12-03T13:00:00+08:00'), state: 'ok' },
      { id: 'today', startedAt: new Date('2026-12-03T02:00:00+08:00'), state: 'ok' },
      { id: 'yesterday', startedAt: new Date('2026-12-02T02:00:00+08:00'), state: 'ok' },
    ];
    assert.deepEqual(retention(items, { daily: 1, weekly: 0, monthly: 0 }, { now, timeZone: SH }), [
      { id: 'future', keep: true, reasons: ['future'] },
      { id: 'today', keep: true, reasons: ['daily', 'newest'] },
      { id: 'yesterday', keep: false, reasons: [] },
    ]);
  });

  test('bad input throws instead of deciding', () => {
    const now = new Date('2026-12-03T12:00:00+08:00');
    const items = dailyBackups('2026-12-03', 3);
    assert.throws(() => retention(items, { daily: -1, weekly: 0, monthly: 0 }, { now, timeZone: SH }), RangeError);
    assert.throws(() => retention(items, { daily: 1, weekly: 0, monthly: 0 }, { now, timeZone: 'Mars/Olympus' }), RangeError);
    assert.throws(() => retention([{ id: 'x', startedAt: new Date('nope'), state: 'ok' }], { daily: 1, weekly: 0, monthly: 0 }, { now, timeZone: SH }), RangeError);
  });
});
