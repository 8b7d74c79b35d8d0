import { z } from 'zod';
import { formatDuration } from '../src/config/duration.ts';
import type { Config } from '../src/config/schema.ts';
import { defineCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Plan } from '../src/approvals/plan.ts';
import type { ContainerInfo, DockerExecutor, Targets } from '../src/targets/types.ts';

const services = (config: Config) => Object.keys(config.services).filter((s) => config.services[s].docker && config.services[s].container);

function dockerFor(targets: Targets, name: string): DockerExecutor {
  const docker = targets.docker.get(name);
  if (!docker) throw new UserError(`Docker target "${name}" is not configured (targets.docker).`);
  return docker;
}

const up = (c: ContainerInfo) => (c.state === 'running' && c.startedAt ? `up ${formatDuration(Date.now() - c.startedAt.getTime())}` : c.state);
const iso = (d: Date | null | undefined) => (d ? d.toISOString().replace('.000Z', 'Z') : 'never');

export default defineCommand({
  name: 'restart',
  summary: "Restart a service's container (manual §4.1), after approval",
  usage: ['/restart <service> [--dry-run]', '/restart <service> --break-glass "reason"   (when allowed: runs at once, flagged for review)'],
  positionals: ['service'],
  destructive: true,
  args: (config) => {
    const names = services(config);
    return z.object({ service: names.length ? z.enum(names as [string, ...string[]]) : z.string() });
  },

  async plan(ctx): Promise<Plan> {
    const svc = ctx.config.services[ctx.args.service];
    if (!svc?.docker || !svc.container) {
      throw new UserError(`No service "${ctx.args.service}" with a container is configured (services: in config).`, { usage: this.usage });
    }
    const docker = dockerFor(ctx.targets, svc.docker);
    const c = await docker.inspect(svc.container);
    if (!c) throw new UserError(`Container ${svc.container} of service ${ctx.args.service} does not exist on docker:${svc.docker}.`);
    return {
      summary: `restart container ${c.name} (image ${c.image}, ${up(c)}, ${c.restartCount} restarts) on docker:${svc.docker}`,
      steps: [
        `docker restart -t ${Math.round(svc.stop_timeout / 1000)} ${c.name}`,
        `wait until it is running${c.health ? ' and healthy' : ''}, at most ${formatDuration(svc.ready_timeout)}`,
      ],
      risk: 'medium',
      riskNote: `${ctx.args.service} is unavailable while it restarts`,
      target: { docker: svc.docker, containerId: c.id, containerName: c.name, stopTimeoutSec: Math.round(svc.stop_timeout / 1000), readyTimeoutMs: svc.ready_timeout },
    };
  },

  /** The container must be the very one that was approved: same name, same id. */
  async precheck(ctx: ExecContext, plan: Plan) {
    const docker = dockerFor(ctx.targets, String(plan.target.docker));
    const now = await docker.inspect(String(plan.target.containerName));
    if (!now) return `container ${plan.target.containerName} no longer exists`;
    if (now.id !== plan.target.containerId) return `container ${plan.target.containerName} was recreated (id ${String(plan.target.containerId).slice(0, 12)} → ${now.id.slice(0, 12)})`;
    return undefined;
  },

  async execute(ctx: ExecContext, plan: Plan) {
    const docker = dockerFor(ctx.targets, String(plan.target.docker));
    const id = String(plan.target.containerId);
    const before = await docker.inspect(id);
    if (!before) throw new UserError(`container ${plan.target.containerName} disappeared before the restart`);
    await ctx.progress(`restarting ${before.name}…`);
    const started = Date.now();
    await docker.restart(id, { stopTimeoutSec: Number(plan.target.stopTimeoutSec) });
    await ctx.progress(`waiting for ${before.name} to be ${before.health ? 'healthy' : 'running'}…`);
    const { ready, info } = await docker.waitReady(id, { deadlineMs: Number(plan.target.readyTimeoutMs), startedAfter: before.startedAt ?? undefined });
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const after = info ?? before;
    return {
      title: `/restart ${before.name}`,
      status: ready ? 'ok' : 'crit',
      summary: ready ? `${after.health ? 'healthy' : 'running'} in ${secs} s` : `not ready after ${secs} s (state ${after.state}${after.health ? `, ${after.health}` : ''})`,
      sections: [{
        title: 'Before → after',
        lines: [
          `started at: ${iso(before.startedAt)} → ${iso(after.startedAt)}`,
          `state: ${before.state} → ${after.state}`,
          `health: ${before.health ?? 'no healthcheck'} → ${after.health ?? 'no healthcheck'}`,
          `restart count: ${before.restartCount} → ${after.restartCount}`,
        ],
      }],
    };
  },
});
