import { z } from 'zod';
import { conflict } from '../src/upgrade/plan.ts';
import type { Config } from '../src/config/schema.ts';
import { defineCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Plan } from '../src/approvals/plan.ts';
import { msg, type T } from '../src/i18n/index.ts';
import type { ContainerInfo, DockerExecutor, Targets } from '../src/targets/types.ts';

const NAME = 'restart';

const services = (config: Config) => Object.keys(config.services).filter((s) => config.services[s].docker && config.services[s].container);

function dockerFor(targets: Targets, name: string): DockerExecutor {
  const docker = targets.docker.get(name);
  if (!docker) throw new UserError(msg('restart:errors.docker_unconfigured', { name }));
  return docker;
}

/**
 * Docker's start time, in the configured zone with its offset, as one ISO 8601 token
 * ("2026-12-02T09:00:00+08:00") so that before → after reads as a pair.
 */
const iso = (t: T, d: Date | null | undefined) => (d ? t.time(d).replace(' ', 'T').replace(' UTC', '') : t('restart:result.never'));

/**
 * The plan's one line, as a Msg: the plan is stored and hashed, and each reader (the channel's
 * card, the requester's dry run) renders it in their own language.
 */
function planSummary(c: ContainerInfo, docker: string) {
  const common = { name: c.name, image: c.image, count: c.restartCount, docker };
  return c.state === 'running' && c.startedAt
    ? msg('restart:plan.summary_up', { ...common, upMs: Date.now() - c.startedAt.getTime() })
    : msg('restart:plan.summary_state', { ...common, state: c.state });
}

export default defineCommand({
  name: NAME,
  summary: 'restart:summary',
  usage: ['/restart <service> [--dry-run]', { syntax: '/restart <service> --break-glass "reason"', note: 'restart:usage.break_glass' }],
  positionals: ['service'],
  destructive: true,
  args: (config) => {
    const names = services(config);
    return z.object({ service: names.length ? z.enum(names as [string, ...string[]]) : z.string() });
  },

  async plan(ctx): Promise<Plan> {
    const svc = ctx.config.services[ctx.args.service];
    if (!svc?.docker || !svc.container) {
      throw new UserError(msg('restart:errors.no_service', { service: ctx.args.service }), { usage: this.usage });
    }
    const docker = dockerFor(ctx.targets, svc.docker);
    const c = await docker.inspect(svc.container);
    if (!c) throw new UserError(msg('restart:errors.no_container', { container: svc.container, service: ctx.args.service, docker: svc.docker }));
    const stopTimeoutSec = Math.round(svc.stop_timeout / 1000);
    return {
      summary: planSummary(c, svc.docker),
      steps: [
        // i18n-exempt: the shell command that runs, the same in every language
        `docker restart -t ${stopTimeoutSec} ${c.name}`,
        msg(c.health ? 'restart:plan.wait_healthy' : 'restart:plan.wait_running', { ms: svc.ready_timeout }),
      ],
      risk: 'medium',
      riskNote: msg('restart:plan.risk_note', { service: ctx.args.service }),
      target: { docker: svc.docker, containerId: c.id, containerName: c.name, stopTimeoutSec, readyTimeoutMs: svc.ready_timeout },
    };
  },

  /** The container must be the very one that was approved: same name, same id. */
  async precheck(ctx: ExecContext, plan: Plan) {
    const docker = dockerFor(ctx.targets, String(plan.target.docker));
    const name = String(plan.target.containerName);
    // Not while an upgrade or rollback switches this service's container. Asked first: mid-switch
    // the name is briefly free or held by the new container, which would read as "gone" or
    // "recreated" and hide the upgrade that is the reason.
    const service = Object.entries(ctx.config.services).filter(([, s]) => s.container === name).map(([n]) => n);
    const busy = await conflict(ctx.config, service, ctx.requestId, ['upgrade', 'rollback']);
    if (busy) return busy;
    const now = await docker.inspect(name);
    if (!now) return msg('restart:precheck.gone', { name });
    if (now.id !== plan.target.containerId) return msg('restart:precheck.recreated', { name, before: String(plan.target.containerId).slice(0, 12), after: now.id.slice(0, 12) });
    return undefined;
  },

  async execute(ctx: ExecContext, plan: Plan) {
    const { t } = ctx;
    const docker = dockerFor(ctx.targets, String(plan.target.docker));
    const id = String(plan.target.containerId);
    const before = await docker.inspect(id);
    if (!before) throw new UserError(msg('restart:errors.disappeared', { name: plan.target.containerName }));
    await ctx.progress(t('restart:progress.restarting', { name: before.name }));
    const started = Date.now();
    await docker.restart(id, { stopTimeoutSec: Number(plan.target.stopTimeoutSec) });
    await ctx.progress(t(before.health ? 'restart:progress.waiting_healthy' : 'restart:progress.waiting_running', { name: before.name }));
    const { ready, info } = await docker.waitReady(id, { deadlineMs: Number(plan.target.readyTimeoutMs), startedAfter: before.startedAt ?? undefined });
    const seconds = t.number((Date.now() - started) / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const after = info ?? before;
    const health = (c: ContainerInfo) => c.health ?? t('restart:result.no_healthcheck');
    let summary: string;
    if (ready) summary = t(after.health ? 'restart:result.healthy' : 'restart:result.running', { seconds });
    else if (after.health) summary = t('restart:result.not_ready_health', { seconds, state: after.state, health: after.health });
    else summary = t('restart:result.not_ready', { seconds, state: after.state });
    return {
      title: `/${NAME} ${before.name}`,
      status: ready ? 'ok' : 'crit',
      summary,
      sections: [{
        title: t('restart:result.before_after'),
        lines: [
          t('restart:result.started_at', { before: iso(t, before.startedAt), after: iso(t, after.startedAt) }),
          t('restart:result.state', { before: before.state, after: after.state }),
          t('restart:result.health', { before: health(before), after: health(after) }),
          t('restart:result.restart_count', { before: before.restartCount, after: after.restartCount }),
        ],
      }],
    };
  },
});
