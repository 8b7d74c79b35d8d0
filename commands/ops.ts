import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';

export default defineCommand({
  name: 'ops',
  summary: 'Help: the commands you may run here',
  usage: ['/ops help'],
  positionals: ['topic'],
  args: z.object({ topic: z.enum(['help']).default('help') }),
  visibility: 'ephemeral',
  async run(ctx) {
    const mine = await ctx.allowedCommands();
    if (mine.length === 0) throw new UserError('There are no commands you may run in this channel.');
    return {
      title: 'opsbot commands',
      status: 'info',
      summary: 'Commands you may run in this channel:',
      sections: mine.map((c) => ({ title: `/${c.name}: ${c.summary}`, lines: c.usage, code: true })),
      footer: 'Destructive commands post an approval card; --dry-run shows the plan without changing anything.',
    };
  },
});
