import { z } from 'zod';
import { allCommands, defineCommand, type AnyCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { didYouMean } from '../src/core/suggest.ts';
import { formatUsage } from '../src/core/usage.ts';
import { msg } from '../src/i18n/index.ts';
import activity from './db/activity.ts';
import analyze from './db/analyze.ts';
import bloat from './db/bloat.ts';
import cancel from './db/cancel.ts';
import explain from './db/explain.ts';
import index from './db/index-create.ts';
import indexes from './db/indexes.ts';
import reindex from './db/reindex.ts';
import sizes from './db/sizes.ts';
import slow from './db/slow.ts';
import terminate from './db/terminate.ts';
import vacuum from './db/vacuum.ts';
import { USAGE } from './db/usage.ts';

const subcommands: Record<string, AnyCommand> = { sizes, slow, activity, bloat, indexes, explain, analyze, vacuum, reindex, index, cancel, terminate };

/** What can be run: the subcommands themselves, not the groups that hold them (`/db index`). */
const runnable = () => allCommands(Object.values(subcommands)).filter((c) => !c.subcommands);

export default defineCommand({
  name: 'db',
  summary: 'db:summary',
  usage: Object.values(USAGE),
  positionals: ['action'],
  visibility: 'ephemeral',
  subcommands,
  args: z.object({ action: z.string().optional() }),
  // `/db` alone: the subcommands this caller may run here, each checked as it would be when run.
  async run(ctx) {
    const { t } = ctx;
    if (ctx.args.action !== undefined) {
      const guess = didYouMean(ctx.args.action, Object.keys(subcommands));
      throw new UserError(msg('db:unknown_action', { action: ctx.args.action, known: Object.keys(subcommands) }), { hint: guess && `/db ${guess}`, usage: this.usage });
    }
    const all = runnable();
    const mine = (await Promise.all(all.map(async (c) => ((await ctx.mayRun(c)) ? c : undefined)))).filter((c) => c !== undefined);
    if (!mine.length) throw new UserError(msg('db:none_allowed'));
    return {
      title: t('db:title'),
      status: 'info',
      summary: t('db:intro', { count: mine.length, all: all.length }),
      sections: [{ title: t('db:list_title'), lines: mine.flatMap((c) => formatUsage(c.usage, t)), code: true }],
    };
  },
});
