import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import { msg } from '../../src/i18n/index.ts';
import { costliest, explain, stepLines } from '../../src/db/explain.ts';
import { checkReadOnly, StatementRefused } from '../../src/db/statement.ts';
import { oneLine, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

/** Slack sends &, < and > in a command's text as HTML entities; SQL needs them back. */
const fromSlack = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db explain',
  summary: 'db:usage.explain',
  usage: [USAGE.explain],
  raw: 'statement',
  args: z.object({ statement: z.string().optional(), analyze: z.boolean().default(false), ...targetArg }),
  async run(ctx) {
    const { t, args, config } = ctx;
    const usage = [USAGE.explain];
    if (!args.statement) throw new UserError(msg('db:explain.missing'), { usage });
    let sql: string;
    try {
      sql = checkReadOnly(fromSlack(args.statement));
    } catch (err) {
      if (err instanceof StatementRefused) throw new UserError(err.reason, { usage });
      throw err;
    }
    if (args.analyze) {
      const roles = await ctx.roles();
      const allowed = config.db.analyze_roles;
      if (!roles.has('admin') && !allowed.some((r) => roles.has(r))) {
        throw new UserError(msg('db:explain.analyze_role', { roles: allowed.length ? allowed : ['admin'], count: allowed.length || 1 }));
      }
    }
    const { name, pg } = pickTarget(ctx, usage);
    const e = await explain(pg, sql, { analyze: args.analyze, timeoutMs: config.db.explain_timeout });
    const steps = costliest(e);
    const total = e.root['Total Cost'];
    const summary = e.analyzed
      ? t('db:explain.summary_analyzed', { cost: t.number(total), execution: t.number(e.executionMs ?? 0, { maximumFractionDigits: 1 }), planning: t.number(e.planningMs ?? 0, { maximumFractionDigits: 1 }) })
      : t('db:explain.summary', { cost: t.number(total), rows: t.number(e.root['Plan Rows']) });
    return {
      title: t('db:explain.title', { target: name }),
      status: 'info',
      summary,
      sections: [
        { title: t('db:explain.statement'), lines: [oneLine(sql, 600)], code: true },
        { title: t(e.analyzed ? 'db:explain.steps_analyzed' : 'db:explain.steps', { count: steps.length }), lines: stepLines(t, e, steps), code: true },
      ],
      footer: t(e.analyzed ? 'db:explain.footer_analyzed' : 'db:explain.footer'),
      attachment: {
        filename: 'plan.json',
        title: t('db:explain.attachment', { target: name }),
        content: `${JSON.stringify(e.json, null, 2)}\n`,
      },
    };
  },
});
