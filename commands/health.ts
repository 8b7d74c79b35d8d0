import { z } from 'zod';
import { CHECK_KINDS, runChecks, type CheckKind, type CheckRun } from '../src/checks/run.ts';
import { defineCommand } from '../src/core/define-command.ts';
import { STATUS_ICON, worst, type Report } from '../src/core/report.ts';
import type { Targets } from '../src/targets/types.ts';

/**
 * Concurrent /health calls (a channel all typing it during an incident) share one in-flight
 * run instead of each hammering the targets; every caller still gets its own reply.
 */
const inFlight = new WeakMap<Targets, Map<string, Promise<CheckRun>>>();

function sharedRun(targets: Targets, key: string, start: () => Promise<CheckRun>): Promise<CheckRun> {
  let runs = inFlight.get(targets);
  if (!runs) inFlight.set(targets, (runs = new Map()));
  const existing = runs.get(key);
  if (existing) return existing;
  const run = start().finally(() => runs.delete(key));
  runs.set(key, run);
  return run;
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
    const started = performance.now();
    const result = await sharedRun(ctx.targets, kinds.join(','), () => runChecks(ctx.targets, ctx.config, kinds));
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
      footer: `${result.lines.length} check${result.lines.length === 1 ? "" : "s"} in ${Math.round(performance.now() - started)} ms`,
    };
  },
});
