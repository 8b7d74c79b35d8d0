import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { samePlanRelation } from '../../src/db/plan.ts';
import { guarded, targetArg, targetName } from '../../src/db/target.ts';
import { maintenancePlan, runMaintenance } from '../../src/db/vacuum.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db analyze',
  summary: 'db:usage.analyze',
  usage: [USAGE.analyze],
  positionals: ['table'],
  // Reads and writes go on while it runs: no vote, but a grant, a card with progress, and Stop.
  job: true,
  restricted: true,
  cancellable: true,
  args: z.object({ table: z.string().optional(), ...targetArg }),
  plan: (ctx) => guarded(ctx.config, targetName(ctx.config, ctx.args.target, [USAGE.analyze]), maintenancePlan(ctx, 'analyze', [USAGE.analyze])),
  precheck: (ctx: ExecContext, plan: Plan) => samePlanRelation(ctx, plan.target),
  execute: (ctx: ExecContext, plan: Plan) => runMaintenance(ctx, plan),
});
