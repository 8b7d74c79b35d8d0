import { z } from 'zod';
import type { Plan } from '../src/approvals/plan.ts';
import { backupsFor } from '../src/backup/index.ts';
import { defineCommand, type AnyCommand, type ExecContext } from '../src/core/define-command.ts';
import type { Report } from '../src/core/report.ts';
import { formatUsage } from '../src/core/usage.ts';
import { listReport } from '../src/secrets/list.ts';
import { executeRotate, rotatePlan, rotatePrecheck, rotateWhereNow } from '../src/secrets/rotate.ts';

const USAGE = [
  { syntax: '/secrets list', note: 'secrets:usage.list' },
  { syntax: '/secrets rotate <name> [--dry-run]', note: 'secrets:usage.rotate' },
];

// Listing is open unless permissions.secrets-read restricts it; rotating needs permissions.secrets.
const READ = 'secrets-read';
const WRITE = 'secrets';
/** Every service reading the secret restarts, and sessions signed with the old value end: two people agree. */
const TWO = { approvers: ['approver', 'admin'], count: 2 };

const list = defineCommand({
  // i18n-exempt: the command's name
  name: 'secrets list',
  summary: 'secrets:usage.list',
  permission: READ,
  usage: [USAGE[0]],
  args: z.object({}),
  async run(ctx): Promise<Report> {
    return listReport(ctx.t, ctx.config, ctx.targets, backupsFor(ctx.config)?.db);
  },
});

const rotate = defineCommand({
  // i18n-exempt: the command's name
  name: 'secrets rotate',
  summary: 'secrets:usage.rotate',
  permission: WRITE,
  usage: [USAGE[1]],
  positionals: ['name'],
  destructive: true,
  defaultRules: { 'secrets.rotate': TWO },
  args: z.object({ name: z.string() }),
  async plan(ctx): Promise<Plan> {
    return rotatePlan(ctx, [USAGE[1]]);
  },
  async precheck(ctx: ExecContext, plan: Plan) {
    return rotatePrecheck(ctx, plan);
  },
  async execute(ctx: ExecContext, plan: Plan) {
    return executeRotate(ctx, plan);
  },
  async whereNow(ctx, plan) {
    return rotateWhereNow(ctx, plan);
  },
});

const SUBCOMMANDS = { list, rotate } as Record<string, AnyCommand>;

export default defineCommand({
  name: 'secrets',
  summary: 'secrets:summary',
  usage: USAGE,
  permission: READ,
  positionals: ['action'],
  visibility: 'ephemeral',
  subcommands: SUBCOMMANDS,
  // A word that names no subcommand lands here, and is refused with the list and a "did you mean".
  args: z.object({ action: z.enum(['list', 'rotate']).optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    return {
      title: t('secrets:help.title'),
      status: 'info',
      summary: t('secrets:summary'),
      sections: [{ title: t('core:usage.title'), lines: formatUsage(USAGE, t), code: true }],
    };
  },
});
