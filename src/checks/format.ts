import type { T } from '../i18n/index.ts';

// Figures in check lines, formatted by Intl for the reader. One decimal below 10, where it says
// something (0.4 ms is not 0 ms); whole numbers above, where it would only be noise.
const digits = (n: number) => (Math.abs(n) < 10 ? 1 : 0);

/** A latency: "3.2 ms", "12 ms" / "3.2毫秒". */
export function ms(t: T, n: number): string {
  return t.number(n, { style: 'unit', unit: 'millisecond', unitDisplay: 'short', maximumFractionDigits: digits(n) });
}

/** A percentage given as 0–100: "5.3%", "45%". */
export function pct(t: T, n: number): string {
  return t.number(n / 100, { style: 'percent', maximumFractionDigits: digits(n) });
}

/** A load average: always two decimals, as /proc/loadavg and uptime show it. */
export function load(t: T, n: number): string {
  return t.number(n, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
