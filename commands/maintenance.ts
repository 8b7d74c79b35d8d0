import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { formatUsage } from '../src/core/usage.ts';
import { pickTarget, targetArg } from '../src/db/target.ts';
import { msg } from '../src/i18n/index.ts';
import { weeklyReport } from '../src/maintenance/weekly.ts';

const USAGE = {
  weekly: { syntax: '/maintenance weekly [--target NAME]', note: 'maintenance:usage.weekly' },
};

// Read-only: it reports and offers buttons; each button is its own command, with its own grant.
const weekly = defineCommand({
  // i18n-exempt: the command's name
  name: 'maintenance weekly',
  summary: 'maintenance:usage.weekly',
  usage: [USAGE.weekly],
  args: z.object({ ...targetArg }),
  async run(ctx): Promise<Report> {
    return weeklyReport(ctx.t, ctx.config, ctx.targets, pickTarget(ctx, [USAGE.weekly]));
  },
});

export default defineCommand({
  name: 'maintenance',
  summary: 'maintenance:summary',
  usage: Object.values(USAGE),
  positionals: ['action'],
  visibility: 'ephemeral',
  subcommands: { weekly },
  args: z.object({ action: z.string().optional() }),
  async run(ctx): Promise<Report> {
    if (ctx.args.action !== undefined) throw new UserError(msg('maintenance:unknown_action', { action: ctx.args.action }), { usage: this.usage });
    return { title: ctx.t('maintenance:title'), status: 'info', sections: [{ title: ctx.t('maintenance:list_title'), lines: formatUsage(this.usage, ctx.t), code: true }] };
  },
});
