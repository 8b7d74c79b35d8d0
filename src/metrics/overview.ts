// /metrics overview: the manual's §6.1 list (CPU, memory, disk, network, request latency, error
// rate), one PromQL expression each from config, all asked at once, each within its own timeout.
import type { Config } from '../config/schema.ts';
import { UnavailableError, UserError, errorMessage } from '../core/errors.ts';
import { type CheckLine, type Report, type Status, worst } from '../core/report.ts';
import { source, type Outcome } from '../core/source.ts';
import { TimeoutError } from '../core/timeout.ts';
import type { T } from '../i18n/index.ts';
import type { InstantSample, PrometheusExecutor } from '../targets/prometheus.ts';
import { ms, pct } from '../checks/format.ts';
import { formatValue, labelList, splitLabels } from './format.ts';

export const OVERVIEW_ITEMS = ['cpu', 'memory', 'disk', 'network', 'latency', 'error_rate'] as const;
export type OverviewItem = (typeof OVERVIEW_ITEMS)[number];

type ItemConfig = NonNullable<Config['alerts']['prometheus']>['overview'][OverviewItem];

/** How each line's figure reads: a percentage, bytes per second, seconds, or events per second. */
function figure(t: T, item: OverviewItem, v: number): string {
  if (!Number.isFinite(v)) return formatValue(t, v);
  switch (item) {
    case 'cpu':
    case 'memory':
    case 'disk':
      return pct(t, v);
    case 'network':
      return t('metrics:unit.per_second', { value: t.bytes(v) });
    case 'latency':
      return v < 1 ? ms(t, v * 1000) : t('metrics:unit.seconds', { value: t.number(v, { maximumFractionDigits: 2 }) });
    case 'error_rate':
      return t('metrics:unit.per_second', { value: formatValue(t, v) });
  }
}

/** Above crit is critical and above warn a warning, as the manual's rule compares (`> 0.05`). */
function statusOf(v: number, c: ItemConfig): Status {
  if (!Number.isFinite(v)) return 'warn';
  if (c.crit !== undefined && v > c.crit) return 'crit';
  if (c.warn !== undefined && v > c.warn) return 'warn';
  return 'ok';
}

/** Several series on one line, the worst first: "92% (instance="app1"), 40% (instance="app2"), 1 more". */
const MAX_PER_LINE = 3;

function line(t: T, item: OverviewItem, c: ItemConfig, o: Outcome<InstantSample[]>): CheckLine {
  const name = t(`metrics:overview.${item}`);
  if (!o.ok) return { name, status: 'crit', text: failure(t, o) };
  if (o.facts.length === 0) return { name, status: 'warn', text: t('metrics:overview.no_data', { expr: c.expr }) };
  const { varying } = splitLabels(o.facts.map((s) => s.metric));
  const rank = (v: number) => (Number.isFinite(v) ? v : -Infinity);
  const sorted = [...o.facts].sort((a, b) => rank(b.value) - rank(a.value));
  const parts = sorted.slice(0, MAX_PER_LINE).map((s) => {
    const who = o.facts.length > 1 ? labelList(Object.fromEntries(varying.filter((k) => k in s.metric).map((k) => [k, s.metric[k]]))) : '';
    return who ? t('metrics:overview.of_series', { value: figure(t, item, s.value), series: who }) : figure(t, item, s.value);
  });
  if (sorted.length > MAX_PER_LINE) parts.push(t('metrics:overview.more', { count: sorted.length - MAX_PER_LINE }));
  return { name, status: worst(o.facts.map((s) => statusOf(s.value, c))), text: parts.join(', ') };
}

function failure(t: T, o: Extract<Outcome<unknown>, { ok: false }>): string {
  if (o.error instanceof TimeoutError) return t('metrics:errors.timeout', { url: o.where, ms: o.timeoutMs });
  if (o.error instanceof UserError) return o.error.localized(t);
  return errorMessage(o.error);
}

export async function overviewReport(t: T, prom: PrometheusExecutor, config: NonNullable<Config['alerts']['prometheus']>): Promise<Report> {
  const items = OVERVIEW_ITEMS.map((item) => ({ item, c: config.overview[item] }));
  const outcomes = await Promise.all(items.map(({ item, c }) => source(item, prom.url, config.timeout + 1000, async () => {
    const r = await prom.query(c.expr);
    // A range selector in an overview expression would be a mistake in config: its last sample stands for it.
    return r.kind === 'vector' ? r.samples : r.series.map((s) => ({ metric: s.metric, at: s.values.at(-1)?.[0] ?? 0, value: s.values.at(-1)?.[1] ?? Number.NaN }));
  })));
  // Prometheus itself down: one clear error rather than six lines saying the same.
  if (outcomes.every((o) => !o.ok && o.error instanceof UnavailableError)) throw (outcomes[0] as { error: unknown }).error;
  const checks = items.map(({ item, c }, i) => line(t, item, c, outcomes[i]));
  const status = worst(checks.map((c) => c.status));
  const noData = checks.filter((_, i) => outcomes[i].ok && (outcomes[i] as { facts: unknown[] }).facts.length === 0).length;
  return {
    title: t('metrics:overview.title'),
    status,
    summary: noData ? t('metrics:overview.summary_no_data', { count: noData }) : t(`metrics:overview.summary_${status}`),
    checks,
    footer: [t('metrics:overview.rule', { crit: config.overview.error_rate.crit ?? 0.05 }), t('metrics:source', { url: prom.url })].join(' · '),
  };
}
