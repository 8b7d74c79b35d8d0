import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { formatUsage } from '../src/core/usage.ts';
import { msg } from '../src/i18n/index.ts';
import { gatherSecurity } from '../src/security/gather.ts';
import { securityReport } from '../src/security/report.ts';

const USAGE = {
  check: { syntax: '/security check', note: 'security:usage.check' },
};

// Read-only: it reads permissions, logs and settings and changes nothing, so everyone may run it
// (config.permissions can narrow it like any command).
const check = defineCommand({
  // i18n-exempt: the command's name
  name: 'security check',
  summary: 'security:usage.check',
  usage: [USAGE.check],
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const t0 = performance.now();
    const run = await gatherSecurity(ctx.targets, ctx.config, (since) => ctx.auditWindow(since));
    return securityReport(ctx.t, ctx.config, run, Math.round(performance.now() - t0));
  },
});

export default defineCommand({
  name: 'security',
  summary: 'security:summary',
  usage: Object.values(USAGE),
  positionals: ['action'],
  visibility: 'ephemeral',
  subcommands: { check },
  args: z.object({ action: z.string().optional() }),
  async run(ctx): Promise<Report> {
    if (ctx.args.action !== undefined) throw new UserError(msg('security:unknown_action', { action: ctx.args.action }), { usage: this.usage });
    return { title: ctx.t('security:title'), status: 'info', sections: [{ title: ctx.t('security:list_title'), lines: formatUsage(this.usage, ctx.t), code: true }] };
  },
});
