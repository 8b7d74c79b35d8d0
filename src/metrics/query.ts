// /metrics <expr>: an instant query as a table, a range query as sparklines and a PNG chart.
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { InstantResult, PrometheusExecutor, RangeSeries } from '../targets/prometheus.ts';
import { renderChart } from './chart.ts';
import { columns, cut, figures, formatValue, labelList, seriesName, sparkline, splitLabels, stepFor } from './format.ts';

export interface QueryLimits {
  /** Rows of a table, sparklines of a range. */
  rows: number;
  /** Series drawn in the chart. */
  series: number;
}

/** The expression on one line, cut for a title. */
const shortExpr = (expr: string) => {
  const line = expr.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};

/** Rows sorted by series name, so the same query gives the same table. */
const byName = <R extends { metric: Record<string, string> }>(rows: R[]) =>
  rows.map((r) => ({ r, name: seriesName(r.metric) })).sort((a, b) => a.name.localeCompare(b.name)).map((x) => x.r);

/** The value of each series now, as a table: one column per label that tells series apart, then the value. */
export function instantReport(t: T, expr: string, result: InstantResult, url: string, limits: QueryLimits, at: Date): Report {
  // A range selector (`up[5m]`) gives samples: each series' last one is shown, with how many there were.
  const rows = result.kind === 'vector'
    ? byName(result.samples).map((s) => ({ metric: s.metric, value: s.value, samples: undefined as number | undefined }))
    : byName(result.series).map((s) => ({ metric: s.metric, value: s.values.at(-1)?.[1] ?? Number.NaN, samples: s.values.length }));
  const title = t('metrics:instant.title', { expr: shortExpr(expr) });
  const footer = t('metrics:source', { url });
  if (rows.length === 0) return { title, status: 'warn', summary: t('metrics:empty', { expr: shortExpr(expr), at }), footer };

  const { common, varying } = splitLabels(rows.map((r) => r.metric));
  const shown = rows.slice(0, limits.rows);
  const header = [...varying.map((k) => (k === '__name__' ? t('metrics:table.metric') : k)), t('metrics:table.value')];
  if (result.kind === 'matrix') header.splice(header.length - 1, 0, t('metrics:table.samples'));
  const body = shown.map((r) => [
    ...varying.map((k) => cutCell(r.metric[k] ?? '')),
    ...(r.samples === undefined ? [] : [String(r.samples)]),
    formatValue(t, r.value),
  ]);
  const lines = varying.length || result.kind === 'matrix' ? columns([header, ...body]) : body.map((b) => b.join('  '));
  if (rows.length > shown.length) lines.push(t('metrics:more_series', { count: rows.length - shown.length }));
  return {
    title,
    status: 'info',
    summary: t('metrics:instant.summary', { count: rows.length, at }),
    fields: Object.keys(common).length ? [{ label: t('metrics:common_labels'), value: labelList(common) }] : undefined,
    sections: [{ title: t('metrics:instant.section'), lines, code: true }],
    footer,
  };
}

const cutCell = (s: string) => cut(s, 48);

/**
 * The expression over the last `rangeMs`: a sparkline per series in the message, and the chart as
 * a PNG beside it (uploaded in the message's thread).
 */
export async function rangeReport(t: T, prom: PrometheusExecutor, expr: string, rangeMs: number, limits: QueryLimits, now = Date.now()): Promise<Report> {
  const step = stepFor(rangeMs);
  const series = byName(await prom.queryRange(expr, now - rangeMs, now, step));
  const title = t('metrics:range.title', { expr: shortExpr(expr), range: rangeMs });
  const footer = t('metrics:source', { url: prom.url });
  const withData = series.filter((s) => figures(s.values));
  if (withData.length === 0) return { title, status: 'warn', summary: t('metrics:range.empty', { expr: shortExpr(expr), range: rangeMs }), footer };

  const names = withData.map((s) => seriesName(s.metric));
  const shown = withData.slice(0, limits.rows);
  const lines = columns(shown.map((s, i) => {
    const f = figures(s.values)!;
    return [sparkline(s.values.map(([, v]) => v)), t('metrics:range.figures', { min: formatValue(t, f.min), max: formatValue(t, f.max), last: formatValue(t, f.last) }), names[i]];
  }));
  if (withData.length > shown.length) lines.push(t('metrics:more_series', { count: withData.length - shown.length }));

  const drawn: RangeSeries[] = withData.slice(0, limits.series);
  const png = await renderChart(drawn.map((s, i) => ({ name: names[i], values: s.values })), { timeZone: t.timeZone, start: now - rangeMs, end: now });
  const notDrawn = withData.length - drawn.length;
  return {
    title,
    status: 'info',
    summary: t('metrics:range.summary', { count: withData.length, range: rangeMs, step: step * 1000 }),
    sections: [{ title: t('metrics:range.section'), lines, code: true }],
    footer: [notDrawn > 0 ? t('metrics:range.not_drawn', { count: notDrawn }) : '', footer].filter(Boolean).join(' · '),
    attachment: { filename: 'metrics.png', title: t('metrics:range.chart', { expr: shortExpr(expr) }), content: png },
  };
}
