import { z } from 'zod';
import type { Plan } from '../../src/approvals/plan.ts';
import { durationWithin } from '../../src/config/duration.ts';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import { cleanupPlan, cleanupPrecheck, logsByHost, runCleanup } from '../../src/logs/cleanup.ts';
import { msg } from '../../src/i18n/index.ts';
import type { UsageLine } from '../../src/core/usage.ts';

const USAGE: UsageLine[] = [{ syntax: '/logs cleanup [service] [--older-than 30d] [--dry-run]', note: 'logs:usage.cleanup' }];

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'logs cleanup',
  summary: 'logs:usage.cleanup',
  usage: USAGE,
  positionals: ['service'],
  destructive: true,
  // At least a day: anything shorter would take the rotation that just happened.
  args: z.object({ service: z.string().optional(), olderThan: durationWithin({ min: 86_400_000, max: 3650 * 86_400_000 }).optional() }),
  async plan(ctx): Promise<Plan> {
    const { service } = ctx.args;
    if (service !== undefined && !logsByHost(ctx.config, service).size) throw new UserError(msg('logs:cleanup.no_files_service', { service }), { usage: USAGE });
    return cleanupPlan(ctx.config, ctx.targets, ctx.args.olderThan ?? ctx.config.log_rotation.cleanup_older_than, service);
  },
  precheck: (ctx: ExecContext, plan: Plan) => cleanupPrecheck(ctx, plan),
  execute: (ctx: ExecContext, plan: Plan) => runCleanup(ctx, plan),
});
