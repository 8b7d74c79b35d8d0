import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { msg } from '../../src/i18n/index.ts';
import { createIndexPlan, createIndexPrecheck, runCreateIndex } from '../../src/db/create-index.ts';
import { leftAfter } from '../../src/db/reindex.ts';
import { guarded, targetArg, targetName } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

const create = defineCommand({
  // i18n-exempt: the command's name
  name: 'db index create',
  summary: 'db:usage.index_create',
  usage: [USAGE.indexCreate],
  positionals: ['table', 'columns'],
  // `(tenant_id, created_at)` arrives as several words: the last positional takes them all.
  variadic: true,
  destructive: true,
  cancellable: true,
  args: z.object({
    table: z.string().min(1),
    columns: z.array(z.string()).min(1),
    unique: z.boolean().default(false),
    name: z.string().min(1).optional(),
    ...targetArg,
  }),
  plan: (ctx) => guarded(ctx.config, targetName(ctx.config, ctx.args.target, [USAGE.indexCreate]), createIndexPlan(ctx, [USAGE.indexCreate])),
  precheck: (ctx: ExecContext, plan: Plan) => createIndexPrecheck(ctx, plan),
  execute: (ctx: ExecContext, plan: Plan) => runCreateIndex(ctx, plan),
  whereNow: (ctx, plan) => leftAfter(ctx, plan),
});

/** `/db index` only groups `create`; alone it says so. */
export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db index',
  summary: 'db:usage.index_create',
  usage: [USAGE.indexCreate],
  positionals: ['action'],
  subcommands: { create },
  args: z.object({ action: z.string().optional() }),
  async run() {
    throw new UserError(msg('db:index_create.which'), { usage: [USAGE.indexCreate] });
  },
});
