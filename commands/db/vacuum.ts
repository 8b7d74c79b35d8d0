import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { samePlanRelation } from '../../src/db/plan.ts';
import { guarded, targetArg, targetName } from '../../src/db/target.ts';
import { maintenancePlan, runMaintenance } from '../../src/db/vacuum.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db vacuum',
  summary: 'db:usage.vacuum',
  usage: [USAGE.vacuum],
  positionals: ['table'],
  // Plain VACUUM leaves the table readable and writable: it runs at once as a job. FULL locks it
  // against every query while it rewrites it: that waits for approval (rule db.vacuum).
  destructive: (args) => args.full,
  cancellable: true,
  args: z.object({ table: z.string().optional(), full: z.boolean().default(false), ...targetArg }),
  plan: (ctx) => guarded(ctx.config, targetName(ctx.config, ctx.args.target, [USAGE.vacuum]), maintenancePlan(ctx, ctx.args.full ? 'vacuum_full' : 'vacuum', [USAGE.vacuum])),
  precheck: (ctx: ExecContext, plan: Plan) => samePlanRelation(ctx, plan.target),
  execute: (ctx: ExecContext, plan: Plan) => runMaintenance(ctx, plan),
});
