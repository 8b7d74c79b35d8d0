import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest delay setTimeout and setInterval accept (2^31-1 ms, about 24.8 days). Node treats a
 * longer one as 1 ms: a timeout fires at once, and an interval spins.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses "250ms", "5s", "30m", "1h", "7d" (or a bare number of milliseconds). Returns NaN when malformed. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return Number.NaN;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
}

/** Human form for messages: 4200 -> "4.2 s", 90000 -> "1 m 30 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

export interface DurationBounds {
  /** Shortest accepted value, in milliseconds (default 0). */
  min?: number;
  /** Longest accepted value, in milliseconds (default: no limit). */
  max?: number;
}

/**
 * A zod type for durations within bounds: accepts "30m" style strings or milliseconds, yields
 * milliseconds. Values outside the bounds are refused with the bound in words.
 */
export function durationWithin({ min = 0, max = Number.POSITIVE_INFINITY }: DurationBounds = {}) {
  return z
    .union([z.string(), z.number().nonnegative()])
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: `Invalid duration "${value}" (use e.g. 500ms, 5s, 30m, 1h, 7d)` });
        return z.NEVER;
      }
      const shown = typeof value === 'number' ? `${value} ms` : value.trim();
      if (ms > max) {
        const limit = max === MAX_TIMER_MS
          ? `the longest timer Node.js can set is ${formatDuration(MAX_TIMER_MS)} (2^31-1 ms)`
          : `at most ${formatDuration(max)}`;
        ctx.addIssue({ code: 'custom', message: `${shown} is too long: ${limit}` });
        return z.NEVER;
      }
      if (ms < min) {
        ctx.addIssue({ code: 'custom', message: `${shown} is too short: at least ${formatDuration(min)}` });
        return z.NEVER;
      }
      return ms;
    });
}

/** Any duration: for lengths that are only compared or subtracted, never waited for (e.g. `/logs --since`). */
export const duration = durationWithin();

/** A duration that is waited for with a timer, so at most MAX_TIMER_MS. */
export const timerDuration = durationWithin({ max: MAX_TIMER_MS });
