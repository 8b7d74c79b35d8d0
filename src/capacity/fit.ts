/**
 * Least squares of a value on time, and when the line reaches a limit. Pure arithmetic, no
 * store and no words: /capacity and /health's warning both read their forecasts from here.
 */

export const DAY_MS = 86_400_000;

export interface Point {
  /** Epoch ms. */
  at: number;
  value: number;
}

export interface Fit {
  n: number;
  /** From the first to the last sample, in days. */
  spanDays: number;
  /** Growth per day (the line's slope). */
  slope: number;
  /** The line's value at `at` of the last sample. */
  latest: number;
  /** When the last sample was taken (epoch ms). */
  lastAt: number;
  /** Residual standard error: how far the samples sit from the line, in the value's unit. */
  residualSe: number;
  /** The slope's 95% confidence interval. */
  slopeLow: number;
  slopeHigh: number;
}

// Student's t, two-sided 95%, by degrees of freedom 1..30; past 30 the normal's 1.96 is within 2%.
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function t95(df: number): number {
  if (df < 1) return Number.POSITIVE_INFINITY;
  return df <= T95.length ? T95[df - 1] : 1.96 + 2.4 / df;
}

/**
 * The line through the points, or undefined when there is no line to speak of: fewer than three
 * points (a spread needs one degree of freedom) or all taken at the same moment.
 */
export function fitLine(points: readonly Point[]): Fit | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  // Days since the first sample: keeps the sums small, where epoch milliseconds squared lose precision.
  const t0 = Math.min(...points.map((p) => p.at));
  const xs = points.map((p) => (p.at - t0) / DAY_MS);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = points.reduce((a, p) => a + p.value, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (points[i].value - my);
  }
  if (!(sxx > 0)) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssr = 0;
  for (let i = 0; i < n; i++) ssr += (points[i].value - (intercept + slope * xs[i])) ** 2;
  const residualSe = Math.sqrt(ssr / (n - 2));
  const half = t95(n - 2) * (residualSe / Math.sqrt(sxx));
  const lastX = Math.max(...xs);
  return {
    n,
    spanDays: lastX,
    slope,
    latest: intercept + slope * lastX,
    lastAt: t0 + lastX * DAY_MS,
    residualSe,
    slopeLow: slope - half,
    slopeHigh: slope + half,
  };
}

/** What a series says about reaching a limit. */
export type Reach =
  /** The line is at or past the limit already. */
  | { kind: 'reached' }
  /**
   * Not growing: the line falls or stays level, or its growth is not told apart from the noise
   * (the slope's interval includes zero) and would take past the horizon anyway.
   */
  | { kind: 'flat' }
  /**
   * Days from `from` until the line reaches the limit; `early` and `late` from the slope's
   * interval (late is Infinity when the interval's low end does not grow).
   */
  | { kind: 'days'; days: number; early: number; late: number };

/**
 * When the line reaches `limit`, counted from `now` (the line is extended from its last sample,
 * so a run of old samples says less time is left, not more).
 */
export function reach(fit: Fit, limit: number, now: number, horizonDays = 365): Reach {
  const elapsed = Math.max(0, (now - fit.lastAt) / DAY_MS);
  const current = fit.latest + fit.slope * elapsed;
  if (current >= limit) return { kind: 'reached' };
  if (fit.slope <= 0) return { kind: 'flat' };
  const left = limit - current;
  const days = left / fit.slope;
  // A flat series with noise has a small slope of either sign; a positive one alone is no growth
  // worth a date unless it is told apart from zero or comes soon enough to matter.
  if (fit.slopeLow <= 0 && days > horizonDays) return { kind: 'flat' };
  return { kind: 'days', days, early: left / fit.slopeHigh, late: fit.slopeLow > 0 ? left / fit.slopeLow : Number.POSITIVE_INFINITY };
}
