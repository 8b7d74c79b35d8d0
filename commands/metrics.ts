import { z } from 'zod';
import { parseDuration } from '../src/config/duration.ts';
import type { CommandContext } from '../src/core/define-command.ts';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import type { UsageLine } from '../src/core/usage.ts';
import { msg } from '../src/i18n/index.ts';
import { overviewReport } from '../src/metrics/overview.ts';
import { instantReport, rangeReport } from '../src/metrics/query.ts';

const USAGE: UsageLine[] = [
  { syntax: '/metrics <name|promql>', note: 'metrics:usage.query' },
  { syntax: '/metrics <name|promql> --range 1h', note: 'metrics:usage.range' },
  { syntax: '/metrics overview', note: 'metrics:usage.overview' },
];

/** A range query covers a minute to a month: shorter has too few scrapes, longer too many points. */
const MIN_RANGE = 60_000;
const MAX_RANGE = 31 * 86_400_000;

/**
 * Slack sends &, < and > in a command's text as HTML entities, and some clients turn quotes into
 * curly ones; PromQL needs them back (`rate(x[5m]) > 0.05`, `{job="backend"}`).
 */
const fromSlack = (text: string) => text
  .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  .replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'");

function prometheusOf(ctx: CommandContext<unknown>) {
  const prom = ctx.targets.prometheus;
  const config = ctx.config.alerts.prometheus;
  if (!prom || !config) throw new UserError(msg('metrics:errors.not_configured'));
  return { prom, config };
}

const overview = defineCommand({
  // i18n-exempt: the command's name
  name: 'metrics overview',
  summary: 'metrics:usage.overview',
  usage: [USAGE[2]],
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const { prom, config } = prometheusOf(ctx);
    return overviewReport(ctx.t, prom, config);
  },
});

export default defineCommand({
  name: 'metrics',
  summary: 'metrics:summary',
  usage: USAGE,
  subcommands: { overview },
  // The expression as typed: PromQL's quotes, braces and spaces must reach Prometheus untouched.
  raw: 'query',
  args: z.object({ query: z.string().optional(), range: z.string().optional() }),
  async run(ctx): Promise<Report> {
    const { t, args } = ctx;
    if (!args.query) throw new UserError(msg('metrics:errors.missing'), { usage: USAGE });
    const expr = fromSlack(args.query);
    let rangeMs: number | undefined;
    if (args.range !== undefined) {
      rangeMs = parseDuration(args.range);
      if (!(rangeMs >= MIN_RANGE && rangeMs <= MAX_RANGE)) throw new UserError(msg('metrics:errors.range', { value: args.range }), { usage: USAGE });
    }
    const { prom, config } = prometheusOf(ctx);
    const limits = { rows: config.rows, series: config.series };
    if (rangeMs !== undefined) return rangeReport(t, prom, expr, rangeMs, limits);
    const at = new Date();
    return instantReport(t, expr, await prom.query(expr), prom.url, limits, at);
  },
});
