import { z } from 'zod';
import { capacityFor, soon, type Forecast } from '../src/capacity/index.ts';
import { warningLine } from '../src/capacity/render.ts';
import { CHECK_KINDS, collectChecks, evaluateRun, type CheckKind, type CollectedRun } from '../src/checks/run.ts';
import { defineCommand } from '../src/core/define-command.ts';
import { STATUS_ICON, worst, type CheckLine, type Report, type Status } from '../src/core/report.ts';
import type { Config } from '../src/config/schema.ts';
import type { T } from '../src/i18n/index.ts';
import { scheduleActor } from '../src/schedule/index.ts';
import type { Targets } from '../src/targets/types.ts';

/**
 * Concurrent /health calls (a channel all typing it during an incident) share one in-flight
 * run instead of each hammering the targets, and a finished run is reused for
 * `storm.health_cache`; the report then says how old its figures are. What is shared is the
 * figures, not the text: each reader gets them in their own language.
 */
interface Finished {
  run: CollectedRun;
  /** When the run finished (epoch ms) and how long it took. */
  at: number;
  ms: number;
}
interface Runs {
  inFlight: Map<string, Promise<Finished>>;
  done: Map<string, Finished>;
  started: number;
}
const runsByTargets = new WeakMap<Targets, Runs>();

function runsOf(targets: Targets): Runs {
  let runs = runsByTargets.get(targets);
  if (!runs) runsByTargets.set(targets, (runs = { inFlight: new Map(), done: new Map(), started: 0 }));
  return runs;
}

/** Check runs started for these targets so far (what /metrics reports). */
export function healthRunsStarted(targets: Targets): number {
  return runsOf(targets).started;
}

/**
 * A shared run's figures judged and worded once per language: a storm of /health reuses one run
 * for health_cache, and judging and translating every line again for each request cost more
 * CPU than the rest of the command (bench/ack-latency's profile). The judgement depends only on
 * the run (its own time), the config and the reader's language.
 */
const judged = new WeakMap<CollectedRun, Map<T, ReturnType<typeof evaluateRun>>>();
function evaluated(run: CollectedRun, ctx: { config: Parameters<typeof evaluateRun>[1] }, t: T): ReturnType<typeof evaluateRun> {
  let byReader = judged.get(run);
  if (!byReader) judged.set(run, (byReader = new Map()));
  let result = byReader.get(t);
  if (!result) byReader.set(t, (result = evaluateRun(run, ctx.config, t)));
  return result;
}

function sharedRun(targets: Targets, key: string, cacheMs: number, start: () => Promise<CollectedRun>): Promise<Finished> {
  const runs = runsOf(targets);
  const cached = runs.done.get(key);
  if (cached && Date.now() - cached.at < cacheMs) return Promise.resolve(cached);
  let pending = runs.inFlight.get(key);
  if (!pending) {
    runs.started++;
    const t0 = performance.now();
    pending = start()
      .then((run) => {
        const finished = { run, at: Date.now(), ms: Math.round(performance.now() - t0) };
        if (cacheMs > 0) runs.done.set(key, finished);
        return finished;
      })
      .finally(() => runs.inFlight.delete(key));
    runs.inFlight.set(key, pending);
  }
  return pending;
}

/** Which check kind reads the figure a forecast is about: /health <kind> shows only its own. */
const FORECAST_KIND: Record<Forecast['kind'], CheckKind> = { disk: 'host', database: 'postgres', redis: 'redis' };

/**
 * Capacity's part of /health: a scheduled run stores its figures as samples (once per run, even
 * when shared), and any run shows the stored forecasts that reach a critical threshold within
 * capacity.warn_within. Reading them costs one query a minute at most, and no check of its own;
 * a store that cannot be read leaves the lines out rather than failing the report.
 */
async function capacityLines(ctx: { user: string; config: Config; t: T }, run: CollectedRun, kinds: readonly CheckKind[]): Promise<CheckLine[]> {
  const capacity = capacityFor(ctx.config);
  if (!capacity) return [];
  if (ctx.user.startsWith(scheduleActor(''))) await capacity.record(run);
  const list = await capacity.recent().catch(() => []);
  return soon(list, ctx.config.capacity.warn_within).filter((f) => kinds.includes(FORECAST_KIND[f.kind])).map((f) => warningLine(ctx.t, f));
}

const LABEL: Record<Status, string> = { ok: 'health:status.ok', warn: 'health:status.warn', crit: 'health:status.crit', info: 'health:status.info' };
const COUNT: Record<'crit' | 'warn', string> = { crit: 'health:counts.crit', warn: 'health:counts.warn' };

function summary(t: T, lines: CheckLine[], status: Status): string {
  if (!lines.length) return t('health:no_targets');
  const counts = (['crit', 'warn'] as const)
    .map((s) => [s, lines.filter((l) => l.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, count]) => t(COUNT[s], { count }));
  const label = t(LABEL[status]);
  return counts.length
    ? t('health:verdict_counts', { icon: STATUS_ICON[status], label, counts: counts.join(t('health:counts.separator')) })
    : t('health:verdict', { icon: STATUS_ICON[status], label });
}

export default defineCommand({
  name: 'health',
  summary: 'health:summary',
  usage: ['/health', { syntax: `/health ${CHECK_KINDS.join('|')}`, note: 'health:usage.kind' }],
  positionals: ['kind'],
  args: z.object({ kind: z.enum(CHECK_KINDS).optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const kinds: readonly CheckKind[] = ctx.args.kind ? [ctx.args.kind] : CHECK_KINDS;
    const { run: collected, at, ms } = await sharedRun(ctx.targets, kinds.join(','), ctx.config.storm.health_cache, () => collectChecks(ctx.targets, ctx.config, kinds));
    const result = evaluated(collected, ctx, t);
    const lines = [...result.lines, ...(await capacityLines(ctx, collected, kinds))];
    const age = Math.floor((Date.now() - at) / 1000);
    const status = lines.length ? worst(lines.map((l) => l.status)) : 'info';
    const took = t.number(ms, { style: 'unit', unit: 'millisecond', unitDisplay: 'short', maximumFractionDigits: 0 });
    const count = result.lines.length;
    return {
      title: ctx.args.kind ? t('health:title_kind', { kind: ctx.args.kind }) : t('health:title'),
      status,
      summary: summary(t, lines, status),
      checks: lines,
      sections: ctx.args.kind ? result.details : undefined,
      footer: age < 1 ? t('health:footer.fresh', { count, took }) : t('health:footer.aged', { count, took, seconds: age }),
    };
  },
});
