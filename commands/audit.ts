import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { userMention } from '../src/core/mention.ts';
import { msg } from '../src/i18n/index.ts';

/** Accepts U123 or Slack's escaped mention <@U123|name>. */
const userId = z.string().transform((v, ctx) => {
  const m = /^<?@?([UW][A-Z0-9]+)(?:\|[^>]*)?>?$/.exec(v.trim());
  if (!m) {
    // A catalog key: the argument parser shows it as the whole error, in the reader's language.
    ctx.addIssue({ code: 'custom', message: 'audit:bad_user' });
    return z.NEVER;
  }
  return m[1];
});

export default defineCommand({
  name: 'audit',
  summary: 'audit:summary',
  usage: ['/audit [--limit N] [--user U…]'],
  args: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20), user: userId.optional() }),
  visibility: 'ephemeral',
  async run(ctx) {
    const { t } = ctx;
    const rows = await ctx.recentAudit({ limit: ctx.args.limit, actor: ctx.args.user });
    if (!rows.length) throw new UserError(ctx.args.user ? msg('audit:none_by', { user: ctx.args.user }) : msg('audit:none'));
    const by = ctx.args.user ? userMention(ctx.args.user) : undefined;
    return {
      title: t('audit:title'),
      status: 'info',
      summary: by ? t('audit:last_by', { count: rows.length, user: by }) : t('audit:last', { count: rows.length }),
      sections: [{
        title: t('audit:columns'),
        code: true,
        lines: rows.map((r) => {
          const flag = r.outcome.includes('break_glass') ? `  ${t('audit:break_glass')}` : '';
          const ref = r.ref ? ` ${t('audit:ref', { ref: r.ref })}` : '';
          // Times in the configured zone, with their offset: readers in two zones see the same moment.
          return `${t.time(r.at)}  ${r.actor.padEnd(11)}  /${r.command} ${r.args}`.trimEnd() + `  → ${r.outcome}${ref}${flag}`;
        }),
      }],
    };
  },
});
