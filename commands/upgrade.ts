import { z } from 'zod';
import type { Plan } from '../src/approvals/plan.ts';
import { defineCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { msg, type Msg } from '../src/i18n/index.ts';
import {
  backupTargetOf, conflict, expectedDowntime, imageShort, LOCK, precheckSwitch, recentVerifiedBackup, repositoryFor, resolveServices, switchSteps,
  type SwitchItem, type SwitchPlanTarget,
} from '../src/upgrade/plan.ts';
import { runSwitchPlan } from '../src/upgrade/run.ts';
import { whereSwitchIs } from '../src/upgrade/where.ts';

const USAGE = [
  { syntax: '/upgrade <service…> <tag> [--dry-run]', note: 'upgrade:usage.upgrade' },
];
/** Docker's rule for a tag. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export default defineCommand({
  name: 'upgrade',
  summary: 'upgrade:summary',
  usage: USAGE,
  positionals: ['words'],
  variadic: true,
  destructive: true,
  args: z.object({ words: z.array(z.string()).default([]) }),

  async plan(ctx): Promise<Plan> {
    const { config } = ctx;
    const words = ctx.args.words;
    if (words.length < 2) throw new UserError(msg(words.length ? 'upgrade:errors.no_tag' : 'upgrade:errors.nothing'), { usage: USAGE });
    const tag = words[words.length - 1];
    if (!TAG.test(tag)) throw new UserError(msg('upgrade:errors.invalid_tag', { tag }), { usage: USAGE });
    const resolved = await resolveServices(config, words.slice(0, -1), USAGE);
    // Asked first: while another switch runs, what the containers run now says nothing about this one.
    const busy = await conflict(config, resolved.map((r) => r.name));
    if (busy) throw new UserError(busy);
    const items: SwitchItem[] = [];
    for (const r of resolved) {
      const toImage = `${await repositoryFor(config, r.name, r.svc.image, r.raw.Config.Image)}:${tag}`;
      // Pulled now, not after approval: a tag that cannot be had is refused before anyone is asked.
      let present = await r.engine.image(toImage);
      if (!present) {
        const pulled = await r.engine.pull(toImage, config.upgrade.pull_timeout);
        if (!pulled.ok) throw new UserError(msg('upgrade:errors.image_missing', { image: toImage, docker: r.svc.docker!, reason: pulled.reason }));
        present = await r.engine.image(toImage);
        if (!present) throw new UserError(msg('upgrade:errors.image_missing', { image: toImage, docker: r.svc.docker!, reason: '-' }));
      }
      if (present?.id === r.raw.Image) throw new UserError(msg('upgrade:errors.already', { service: r.name, image: toImage }));
      items.push({
        service: r.name, docker: r.svc.docker!, container: r.svc.container!, containerId: r.raw.Id,
        fromImage: r.raw.Config.Image, fromImageId: r.raw.Image, toImage, tag, toImageId: present?.id ?? null,
        stopTimeoutSec: Math.round(r.svc.stop_timeout / 1000), readyTimeoutMs: r.svc.ready_timeout,
      });
    }
    const backupTarget = backupTargetOf(config);
    const backupId = await recentVerifiedBackup(config, backupTarget);
    const pre: Array<Msg | string> = items.map((i) => msg('upgrade:plan.image_present', { image: i.toImage, id: imageShort(i.toImageId!), docker: i.docker }));
    for (const f of config.upgrade.files) pre.push(msg('upgrade:plan.files', { name: f }));
    pre.push(backupId ? msg('upgrade:plan.backup_found', { id: backupId, age: config.upgrade.backup_max_age })
      : msg('upgrade:plan.backup_take', { target: backupTarget, age: config.upgrade.backup_max_age }));
    const expected = await expectedDowntime(config, items);
    const target: SwitchPlanTarget = {
      lock: LOCK, kind: 'upgrade', items: JSON.stringify(items), backupTarget, backupId,
      files: JSON.stringify(config.upgrade.files), migrate: !!config.upgrade.migrate, restoreBackup: null,
    };
    return {
      summary: msg('upgrade:plan.summary', { what: items.map((i) => `${i.service} (${i.fromImage} → ${i.toImage})`) }),
      steps: switchSteps(config, items, { pre, migrate: true, expected }),
      risk: 'high',
      riskNote: msg(expected.measured ? 'upgrade:plan.risk_measured' : 'upgrade:plan.risk_limit', { ms: expected.ms }),
      target,
    };
  },

  precheck: (ctx: ExecContext, plan: Plan) => precheckSwitch(ctx.config, plan.target, ctx.requestId),

  execute: (ctx: ExecContext, plan: Plan) => runSwitchPlan(ctx, plan.target as SwitchPlanTarget),

  whereNow: (ctx, plan) => whereSwitchIs(ctx, plan.target),
});
