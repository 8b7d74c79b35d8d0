import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

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

/** A zod type for config durations: accepts "30m" style strings or milliseconds, yields milliseconds. */
export const duration = z
  .union([z.string(), z.number().nonnegative()])
  .transform((value, ctx) => {
    const ms = parseDuration(value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `Invalid duration "${value}" (use e.g. 500ms, 5s, 30m, 1h, 7d)` });
      return z.NEVER;
    }
    return ms;
  });
