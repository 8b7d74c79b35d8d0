/**
 * Backup retention, grandfather-father-son style, replacing the manual's `find -mtime +7 -delete`.
 *
 * `find -mtime` counts 24-hour periods from the server's clock; what operators mean by "keep a
 * week of dailies" is calendar days, weeks and months where the team lives. So every backup is
 * placed on a local day, ISO week and month in the configured IANA time zone, and each tier keeps
 * the newest backup of its N most recent periods that have one. Periods without a backup don't use
 * up a slot: a week of outages must not make us drop the last good backups.
 *
 * Pure: no clock, no I/O. Deleting is the caller's job; this only decides and says why.
 */

export interface RetentionItem {
  id: string;
  startedAt: Date;
  state: 'ok' | 'failed';
  verifiedAt?: Date | null;
  verifyOk?: boolean | null;
}
export interface Keep {
  daily: number;
  weekly: number;
  monthly: number;
}
export type KeepReason = 'daily' | 'weekly' | 'monthly' | 'newest' | 'newest_verified' | 'recent_failed' | 'future';
export interface RetentionDecision {
  id: string;
  keep: boolean;
  reasons: KeepReason[];
}

const DAY_MS = 86_400_000;
/** Order reasons are listed in, so the output doesn't depend on the order rules were checked. */
const REASON_ORDER: readonly KeepReason[] = ['daily', 'weekly', 'monthly', 'newest', 'newest_verified', 'recent_failed', 'future'];

/** Decides, for each backup, whether it is kept and why; sorted newest first. Pure: `now` is passed in. */
export function retention(items: RetentionItem[], keep: Keep, opts: { now: Date; timeZone: string }): RetentionDecision[] {
  // Bad input must fail loudly: a retention rule that guesses ends up deleting backups.
  for (const tier of ['daily', 'weekly', 'monthly'] as const) {
    if (!Number.isInteger(keep[tier]) || keep[tier] < 0) throw new RangeError(`keep.${tier} must be a non-negative integer, got ${keep[tier]}`);
  }
  const now = opts.now.getTime();
  if (Number.isNaN(now)) throw new RangeError('now is an invalid date');
  for (const it of items) {
    if (Number.isNaN(it.startedAt.getTime())) throw new RangeError(`backup ${it.id}: startedAt is an invalid date`);
  }
  const localDate = localDateIn(opts.timeZone); // throws RangeError on an unknown zone

  // Newest first; the id breaks ties so equal timestamps still give one stable answer.
  const sorted = [...items].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const reasons = new Map<RetentionItem, Set<KeepReason>>(sorted.map((it) => [it, new Set()]));

  // A backup from the future means a skewed clock. We can't place it in a period honestly, so it is
  // kept and left out of every other rule: otherwise it could take "today" or "newest" from a real one.
  const present: RetentionItem[] = [];
  for (const it of sorted) {
    if (it.startedAt.getTime() > now) reasons.get(it)!.add('future');
    else present.push(it);
  }

  // Failed or partial backups are never restore points, so they don't count toward any tier. A
  // fresh one is kept for a day so whoever is looking into the failure still has the file.
  for (const it of present) {
    if (it.state === 'failed' && it.startedAt.getTime() >= now - DAY_MS) reasons.get(it)!.add('recent_failed');
  }
  const ok = present.filter((it) => it.state === 'ok');

  // Whatever keep says (even all zeros), the latest complete backup stays: a retention run must
  // never leave the target with nothing to restore from.
  if (ok.length > 0) reasons.get(ok[0])!.add('newest');

  // A backup that was actually restored and checked is worth more than newer unchecked ones, so the
  // newest such one stays even when it has aged out of every tier.
  const verified = ok.find((it) => it.verifiedAt != null && it.verifyOk === true);
  if (verified) reasons.get(verified)!.add('newest_verified');

  // GFS tiers. Walking newest first, the first backup seen in a period is that period's newest, and
  // periods appear most recent first, so "the first N distinct periods" are the N most recent ones.
  const tiers: { reason: 'daily' | 'weekly' | 'monthly'; limit: number; period: (d: LocalDate) => string }[] = [
    { reason: 'daily', limit: keep.daily, period: (d) => `${d.y}-${d.m}-${d.d}` },
    { reason: 'weekly', limit: keep.weekly, period: isoWeek },
    { reason: 'monthly', limit: keep.monthly, period: (d) => `${d.y}-${d.m}` },
  ];
  for (const tier of tiers) {
    const seen = new Set<string>();
    for (const it of ok) {
      if (seen.size >= tier.limit) break;
      const key = tier.period(localDate(it.startedAt));
      if (seen.has(key)) continue;
      seen.add(key);
      reasons.get(it)!.add(tier.reason);
    }
  }

  return sorted.map((it) => {
    const r = REASON_ORDER.filter((x) => reasons.get(it)!.has(x));
    return { id: it.id, keep: r.length > 0, reasons: r };
  });
}

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

/** The calendar date of an instant as a wall clock in `timeZone` shows it. */
function localDateIn(timeZone: string): (at: Date) => LocalDate {
  // en-US with numeric parts and the gregorian calendar: only the numbers are read, never the text.
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone, calendar: 'gregory', year: 'numeric', month: 'numeric', day: 'numeric' });
  return (at) => {
    const parts = fmt.formatToParts(at);
    const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    return { y: part('year'), m: part('month'), d: part('day') };
  };
}

/**
 * ISO 8601 week ("2026-W53"): weeks start on Monday and belong to the year of their Thursday, so
 * 2027-01-01 (a Friday) is in 2026-W53 together with 2026-12-28..31, not in a week of its own.
 */
function isoWeek({ y, m, d }: LocalDate): string {
  const date = Date.UTC(y, m - 1, d); // calendar arithmetic only; the zone was applied already
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(date + (3 - mondayBased) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${week}`;
}
