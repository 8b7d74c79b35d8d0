import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { msg } from '../src/i18n/index.ts';
import { checklistsFor } from '../src/checklists/index.ts';
import { KINDS } from '../src/checklists/items.ts';

/** /checklist (manual appendix A): the daily, weekly or monthly checklist, automated where the bot can. */
export default defineCommand({
  name: 'checklist',
  summary: 'checklists:summary',
  usage: [{ syntax: '/checklist <daily|weekly|monthly>', note: 'checklists:usage' }],
  positionals: ['kind'],
  args: z.object({ kind: z.enum(KINDS).default('daily') }),
  async run(ctx) {
    const checklists = checklistsFor(ctx.config);
    if (!checklists) throw new UserError(msg('checklists:unavailable'));
    const run = await checklists.run(ctx.args.kind, ctx.user, ctx.channel, ctx.t);
    return checklists.report(run, ctx.t);
  },
});
