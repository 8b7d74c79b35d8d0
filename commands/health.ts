import { z } from 'zod';
import { CHECK_KINDS, runChecks, type CheckKind, type CheckRun } from '../src/checks/run.ts';
import { defineCommand } from '../src/core/define-command.ts';
import { STATUS_ICON, worst, type Report } from '../src/core/report.ts';
import type { Targets } from '../src/targets/types.ts';

/**
 * Concurrent /health calls (a channel all typing it during an incident) share one in-flight
 * run instead of each hammering the targets, and a finished run is reused for
 * `storm.health_cache`; the report then says how old its figures are.
 */
interface Finished {
  run: CheckRun;
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

function sharedRun(targets: Targets, key: string, cacheMs: number, start: () => Promise<CheckRun>): Promise<Finished> {
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

const LABEL = { ok: 'All checks passed', warn: 'Warnings', crit: 'Problems found', info: '' } as const;

export default defineCommand({
  name: 'health',
  summary: 'Daily health check (manual §1.1): PostgreSQL, Redis, containers and hosts',
  usage: ['/health', `/health ${CHECK_KINDS.join('|')}   (detail for one kind)`],
  positionals: ['kind'],
  args: z.object({ kind: z.enum(CHECK_KINDS).optional() }),
  async run(ctx): Promise<Report> {
    const kinds: readonly CheckKind[] = ctx.args.kind ? [ctx.args.kind] : CHECK_KINDS;
    const { run: result, at, ms } = await sharedRun(ctx.targets, kinds.join(','), ctx.config.storm.health_cache, () => runChecks(ctx.targets, ctx.config, kinds));
    const age = Math.floor((Date.now() - at) / 1000);
    const status = result.lines.length ? worst(result.lines.map((l) => l.status)) : 'info';
    const counts = (['crit', 'warn'] as const).map((s) => [s, result.lines.filter((l) => l.status === s).length] as const).filter(([, n]) => n > 0);
    return {
      title: ctx.args.kind ? `Health: ${ctx.args.kind}` : 'Health',
      status,
      summary: result.lines.length
        ? `${STATUS_ICON[status]} ${LABEL[status]}${counts.length ? ` (${counts.map(([s, n]) => `${n} ${s === 'crit' ? 'critical' : 'warning'}`).join(', ')})` : ''}`
        : 'No targets configured for this check.',
      checks: result.lines,
      sections: ctx.args.kind ? result.details : undefined,
      footer: `${result.lines.length} check${result.lines.length === 1 ? '' : 's'} in ${ms} ms, checked ${age < 1 ? 'just now' : `${age} s ago`}`,
    };
  },
});
