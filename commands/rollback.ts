import { z } from 'zod';
import type { Plan } from '../src/approvals/plan.ts';
import { defineCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { msg, type Msg } from '../src/i18n/index.ts';
import {
  conflict, expectedDowntime, imageShort, LOCK, precheckSwitch, resolveServices, switchSteps, tagOf, upgrades,
  type SwitchItem, type SwitchPlanTarget,
} from '../src/upgrade/plan.ts';
import { runSwitchPlan } from '../src/upgrade/run.ts';
import { whereSwitchIs } from '../src/upgrade/where.ts';

const USAGE = [
  { syntax: '/rollback <service…> [--with-data] [--dry-run]', note: 'upgrade:usage.rollback' },
];

export default defineCommand({
  name: 'rollback',
  summary: 'upgrade:rollback_summary',
  usage: USAGE,
  positionals: ['services'],
  variadic: true,
  destructive: true,
  args: z.object({ services: z.array(z.string()).default([]), withData: z.boolean().default(false) }),

  async plan(ctx): Promise<Plan> {
    const { config } = ctx;
    const versions = upgrades(config).versions;
    const resolved = await resolveServices(config, ctx.args.services, USAGE);
    const items: SwitchItem[] = [];
    let backup: string | null = null;
    for (const r of resolved) {
      const [row] = await versions.latest(r.name);
      if (!row) throw new UserError(msg('upgrade:errors.no_history', { service: r.name }));
      // The record must describe what runs: otherwise "previous" means nothing.
      if (row.image_id !== r.raw.Image) throw new UserError(msg('upgrade:errors.drifted', { service: r.name, recorded: `${row.image} (${imageShort(row.image_id)})`, running: `${r.raw.Config.Image} (${imageShort(r.raw.Image)})` }));
      // By its reference while that still names the recorded image; by id once the tag has moved.
      const byRef = await r.engine.image(row.replaced_image);
      const toImage = byRef?.id === row.replaced_image_id ? row.replaced_image : (await r.engine.image(row.replaced_image_id)) ? row.replaced_image_id : null;
      if (!toImage) throw new UserError(msg('upgrade:errors.previous_gone', { service: r.name, image: row.replaced_image, id: imageShort(row.replaced_image_id), docker: r.svc.docker }));
      backup ??= row.backup_id;
      items.push({
        service: r.name, docker: r.svc.docker!, container: r.svc.container!, containerId: r.raw.Id,
        fromImage: r.raw.Config.Image, fromImageId: r.raw.Image, toImage, tag: tagOf(row.replaced_image), toImageId: row.replaced_image_id,
        stopTimeoutSec: Math.round(r.svc.stop_timeout / 1000), readyTimeoutMs: r.svc.ready_timeout,
      });
    }
    if (ctx.args.withData && !backup) throw new UserError(msg('upgrade:errors.no_backup_recorded', { services: items.map((i) => i.service) }));
    const busy = await conflict(config, items.map((i) => i.service));
    if (busy) throw new UserError(busy);
    const expected = await expectedDowntime(config, items);
    const pre: Array<Msg | string> = items.map((i) => msg('upgrade:plan.image_present', { image: i.toImage, id: imageShort(i.toImageId), docker: i.docker }));
    const steps = switchSteps(config, items, { pre, migrate: false, expected });
    if (ctx.args.withData) steps.push(msg('upgrade:plan.with_data', { command: `/restore ${backup}` }));
    const target: SwitchPlanTarget = {
      lock: LOCK, kind: 'rollback', items: JSON.stringify(items), backupTarget: null, backupId: backup,
      files: '[]', migrate: false, restoreBackup: ctx.args.withData ? backup : null,
    };
    return {
      summary: msg('upgrade:plan.rollback_summary', { what: items.map((i) => `${i.service} (${i.fromImage} → ${i.toImage})`) }),
      steps,
      risk: 'high',
      riskNote: msg(ctx.args.withData ? 'upgrade:plan.risk_rollback_data' : 'upgrade:plan.risk_rollback', { ms: expected.ms }),
      target,
    };
  },

  precheck: (ctx: ExecContext, plan: Plan) => precheckSwitch(ctx.config, plan.target, ctx.requestId),

  execute: (ctx: ExecContext, plan: Plan) => runSwitchPlan(ctx, plan.target as SwitchPlanTarget),

  whereNow: (ctx, plan) => whereSwitchIs(ctx, plan.target),
});
