import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { formatUsage } from '../src/core/usage.ts';
import { msg } from '../src/i18n/index.ts';

export default defineCommand({
  name: 'ops',
  summary: 'ops:summary',
  usage: ['/ops help'],
  positionals: ['topic'],
  args: z.object({ topic: z.enum(['help']).default('help') }),
  visibility: 'ephemeral',
  async run(ctx) {
    const { t } = ctx;
    const mine = await ctx.allowedCommands();
    if (mine.length === 0) throw new UserError(msg('ops:none'));
    return {
      title: t('ops:title'),
      status: 'info',
      summary: t('ops:intro'),
      sections: mine.map((c) => ({ title: `/${c.name}: ${t(c.summary)}`, lines: formatUsage(c.usage, t), code: true })),
      footer: t('ops:footer'),
    };
  },
});
