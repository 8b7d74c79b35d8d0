import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { samePlanRelation } from '../../src/db/plan.ts';
import { leftAfter, reindexPlan, runReindex } from '../../src/db/reindex.ts';
import { guarded, targetArg, targetName } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db reindex',
  summary: 'db:usage.reindex',
  usage: [USAGE.reindex],
  positionals: ['what'],
  destructive: true,
  cancellable: true,
  args: z.object({ what: z.string().min(1), ...targetArg }),
  plan: (ctx) => guarded(ctx.config, targetName(ctx.config, ctx.args.target, [USAGE.reindex]), reindexPlan(ctx, [USAGE.reindex])),
  precheck: (ctx: ExecContext, plan: Plan) => samePlanRelation(ctx, plan.target),
  execute: (ctx: ExecContext, plan: Plan) => runReindex(ctx, plan),
  whereNow: (ctx, plan) => leftAfter(ctx, plan),
});
