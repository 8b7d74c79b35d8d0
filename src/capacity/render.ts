import { pct } from '../checks/format.ts';
import type { CheckLine, Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import { DAY_MS } from './fit.ts';
import type { Forecast } from './forecast.ts';

/** "app1 /", "main database mitong_devops", "cache Redis memory". */
export function label(t: T, f: Forecast): string {
  if (f.kind === 'disk') return t('capacity:label.disk', { host: f.target, mount: f.item });
  if (f.kind === 'database') return t('capacity:label.database', { target: f.target, database: f.item });
  return t('capacity:label.redis', { target: f.target });
}

/** A value in the series' unit: "83.2%" or "1.5 GB". */
function value(t: T, f: Forecast, v: number): string {
  return f.unit === 'percent' ? pct(t, v) : t.bytes(v);
}

/** Growth per day: "+1.0% a day" in points of percent, "+12 MB a day" for sizes. */
function perDay(t: T, f: Forecast, slope: number): string {
  const amount = f.unit === 'percent'
    ? t.number(slope / 100, { style: 'percent', maximumFractionDigits: 2, signDisplay: 'always' })
    : `${slope < 0 ? '−' : '+'}${t.bytes(Math.abs(slope))}`;
  return t('capacity:per_day', { amount });
}

/** Whole days, "less than a day" below one. */
function days(t: T, d: number): string {
  return d < 1 ? t('capacity:under_a_day') : t('capacity:days', { count: Math.round(d) });
}

/** "in about 11 days (8–15 days)": the range from the slope's 95% interval. */
function when(t: T, f: Forecast): string {
  const r = f.reach!;
  if (r.kind !== 'days') return '';
  const range = Number.isFinite(r.late)
    ? t('capacity:range', { early: Math.max(0, Math.round(r.early)), late: Math.round(r.late) })
    : t('capacity:range_open', { early: Math.max(0, Math.round(r.early)) });
  return t('capacity:in_about', { days: days(t, r.days), range });
}

/** The threshold reached: "90%", or for a database "90% of app1 /var/lib/postgresql". */
function target(t: T, f: Forecast): string {
  const limit = pct(t, f.limitPercent ?? 0);
  return f.disk ? t('capacity:of_disk', { limit, host: f.disk.host, mount: f.disk.mount }) : limit;
}

/** The forecast in one line, and how sure it is. */
export function forecastLine(t: T, f: Forecast, warnWithinMs: number): CheckLine {
  const name = label(t, f);
  const fit = f.fit;
  if (!fit) {
    return { name, status: 'info', text: t('capacity:not_enough', { count: f.samples, span: days(t, f.spanDays) }) };
  }
  const spread = t('capacity:spread', {
    now: value(t, f, fit.latest), growth: perDay(t, f, fit.slope), se: value(t, f, fit.residualSe), samples: fit.n, span: days(t, fit.spanDays),
  });
  const r = f.reach;
  let status: Status = 'ok';
  let text: string;
  if (!r) {
    // No threshold to reach: only the growth (a database without capacity.databases, Redis without maxmemory).
    const why = f.disk && !f.disk.sampled ? t('capacity:disk_not_sampled', { host: f.disk.host, mount: f.disk.mount }) : undefined;
    status = 'info';
    text = fit.slope > 0 ? t('capacity:grows', { growth: perDay(t, f, fit.slope) }) : t('capacity:no_growth');
    if (why) text = `${text}${t('capacity:separator')}${why}`;
  } else if (r.kind === 'reached') {
    status = 'crit';
    text = t('capacity:reached', { limit: target(t, f) });
  } else if (r.kind === 'flat') {
    text = t('capacity:no_growth');
  } else {
    status = r.days * DAY_MS < warnWithinMs ? 'warn' : 'ok';
    text = t('capacity:reaches', { limit: target(t, f), when: when(t, f) });
  }
  return { name, status, text: `${text}${t('capacity:separator')}${spread}` };
}

/** /health's line for a forecast under capacity.warn_within: short, and pointing to /capacity. */
export function warningLine(t: T, f: Forecast): CheckLine {
  return { name: t('capacity:label.forecast', { name: label(t, f) }), status: 'warn', text: t('capacity:health_warning', { limit: target(t, f), when: when(t, f) }) };
}
