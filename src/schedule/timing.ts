import { Cron } from 'croner';

/**
 * When a schedule fires: a cron pattern (5 fields, or 6 with seconds first), a repeating interval
 * in milliseconds, or one moment (a Date). Fire times are computed, never taken from the clock at
 * the moment a timer goes off, so that every replica names the same fire by the same instant.
 */
export type When = string | number | Date;

export interface Timing {
  /** The first fire strictly after `after`, or null when there is none (a one-off in the past). */
  next(after: Date): Date | null;
  /** The latest fire at or before `atOrBefore`, or null when there is none. */
  previous(atOrBefore: Date): Date | null;
  /** Stable text for the registration row: a change of pattern or zone starts catch-up afresh. */
  readonly signature: string;
}

/** Croner's own message, without its class prefix, for a `path: message` config error. */
export function cronProblem(pattern: string, timeZone?: string): string | undefined {
  try {
    new Cron(pattern, { timezone: timeZone, mode: '5-or-6-parts' });
    return undefined;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, '');
  }
}

export function timing(when: When, timeZone: string): Timing {
  if (typeof when === 'number') {
    if (!Number.isInteger(when) || when < 1000) throw new RangeError(`schedule interval must be a whole number of ms, at least 1000 (got ${when})`);
    // Multiples of the interval since the epoch: every replica computes the same instants.
    return {
      signature: `every ${when}`,
      next: (after) => new Date((Math.floor(after.getTime() / when) + 1) * when),
      previous: (atOrBefore) => new Date(Math.floor(atOrBefore.getTime() / when) * when),
    };
  }
  // Without a callback croner sets no timer of its own: it is used only for the calendar arithmetic.
  const cron = typeof when === 'string' ? new Cron(when, { timezone: timeZone, mode: '5-or-6-parts' }) : new Cron(when);
  const signature = typeof when === 'string' ? `cron ${when} ${timeZone}` : `at ${when.toISOString()}`;
  return {
    signature,
    next: (after) => cron.nextRun(after),
    // previousRuns excludes a run exactly at its reference; one ms later includes it.
    previous: (atOrBefore) => cron.previousRuns(1, new Date(atOrBefore.getTime() + 1))[0] ?? null,
  };
}
