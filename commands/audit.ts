import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { userMention } from '../src/core/mention.ts';

/** Accepts U123 or Slack's escaped mention <@U123|name>. */
const userId = z.string().transform((v, ctx) => {
  const m = /^<?@?([UW][A-Z0-9]+)(?:\|[^>]*)?>?$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'expected a Slack user ID like U0123ABC' });
    return z.NEVER;
  }
  return m[1];
});

export default defineCommand({
  name: 'audit',
  summary: 'Recent audit events: who ran what, approvals and their outcomes',
  usage: ['/audit [--limit N] [--user U…]'],
  args: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20), user: userId.optional() }),
  visibility: 'ephemeral',
  async run(ctx) {
    const rows = await ctx.recentAudit({ limit: ctx.args.limit, actor: ctx.args.user });
    if (!rows.length) throw new UserError(ctx.args.user ? `No audit events for ${ctx.args.user}.` : 'No audit events yet.');
    return {
      title: 'Audit',
      status: 'info',
      summary: `Last ${rows.length} event${rows.length === 1 ? '' : 's'}${ctx.args.user ? ` by ${userMention(ctx.args.user)}` : ''}, newest first:`,
      sections: [{
        title: 'when (UTC) / who / command / outcome',
        code: true,
        lines: rows.map((r) => {
          const flag = r.outcome.includes('break_glass') ? '  [BREAK-GLASS]' : '';
          return `${new Date(r.at).toISOString().slice(0, 19).replace('T', ' ')}  ${r.actor.padEnd(11)}  /${r.command} ${r.args}`.trimEnd() + `  → ${r.outcome}${r.ref ? ` (ref ${r.ref})` : ''}${flag}`;
        }),
      }],
    };
  },
});
