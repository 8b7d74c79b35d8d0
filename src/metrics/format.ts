// Pure helpers for /metrics: series names, figures, tables, sparklines and the step of a range query.
import { redactText } from '../core/redact.ts';
import type { T } from '../i18n/index.ts';

/** A label value longer than this is cut in tables and legends (pod names, long URLs). */
const MAX_LABEL = 48;

/** Redacted before it is cut: a cut can drop the `@` that marks a URL's password as one. */
export const cut = (raw: string, max = MAX_LABEL) => {
  const s = redactText(raw);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** How Prometheus writes a series: `up{instance="app1:9100", job="node"}`; `{}` for a bare number. */
export function seriesName(metric: Record<string, string>): string {
  const { __name__: name = '', ...labels } = metric;
  const inner = Object.keys(labels).sort().map((k) => `${k}="${cut(labels[k])}"`).join(', ');
  return inner || !name ? `${name}{${inner}}` : name;
}

/**
 * The labels every series shares (shown once above a table) and those that tell them apart (its
 * columns). With a single series every label tells it apart: there is nothing to factor out.
 */
export function splitLabels(metrics: Array<Record<string, string>>): { common: Record<string, string>; varying: string[] } {
  const keys = [...new Set(metrics.flatMap((m) => Object.keys(m)))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const common: Record<string, string> = {};
  const varying: string[] = [];
  for (const k of keys) {
    const first = metrics[0]?.[k];
    if (metrics.length > 1 && first !== undefined && metrics.every((m) => m[k] === first)) common[k] = first;
    else varying.push(k);
  }
  return { common, varying };
}

/** `a="1", b="2"`: labels as a short line (the metric name as it is). */
export function labelList(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => (k === '__name__' ? v : `${k}="${cut(v)}"`)).join(', ');
}

/**
 * A sample value for people: grouped digits, at most four significant ones below 1000 (0.0523,
 * 12.35), whole-ish numbers above; very large or very small ones in exponent form, as Prometheus
 * shows them. NaN and ±Inf as Prometheus writes them.
 */
export function formatValue(t: T, v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e15 || a < 1e-4)) return v.toExponential(3).replace(/\.?0+e/, 'e');
  if (a >= 1000) return t.number(v, { maximumFractionDigits: 1 });
  return t.number(v, { maximumSignificantDigits: 4 });
}

/** Left-aligned columns separated by two spaces, for a code block. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i] - [...cell].length))).join('  ').trimEnd());
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A text sparkline of `values` in `width` characters: each character the mean of its share of the
 * samples, scaled between the series' own minimum and maximum. A share with no finite sample is a
 * space (a gap in the data), and a flat series is a flat middle line.
 */
export function sparkline(values: number[], width = 30): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const n = Math.min(width, values.length);
  const cells: number[] = [];
  for (let i = 0; i < n; i++) {
    const part = values.slice(Math.floor((i * values.length) / n), Math.floor(((i + 1) * values.length) / n)).filter(Number.isFinite);
    cells.push(part.length ? part.reduce((a, b) => a + b, 0) / part.length : Number.NaN);
  }
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return cells.map((c) => {
    if (Number.isNaN(c)) return ' ';
    if (hi === lo) return BARS[3];
    return BARS[Math.min(BARS.length - 1, Math.floor(((c - lo) / (hi - lo)) * BARS.length))];
  }).join('');
}

/** Steps a range query may use, in seconds: round figures that read well on an axis. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];

/**
 * The step of a range query over `rangeMs`: the smallest round step giving at most `points`
 * samples per series (about one per two pixels of the chart), never under the scrape interval's
 * usual floor of 1 s. Prometheus refuses more than 11,000 points per series.
 */
export function stepFor(rangeMs: number, points = 250): number {
  const wanted = rangeMs / 1000 / points;
  return STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86_400) * 86_400;
}

/** Finite values of a series, for min, max and last. */
export function figures(values: Array<[number, number]>): { min: number; max: number; last: number } | undefined {
  const finite = values.map(([, v]) => v).filter(Number.isFinite);
  if (!finite.length) return undefined;
  return { min: Math.min(...finite), max: Math.max(...finite), last: finite[finite.length - 1] };
}
