import { z } from 'zod';
import { approvalList } from '../src/approvals/list.ts';
import { defineCommand } from '../src/core/define-command.ts';

export default defineCommand({
  name: 'approvals',
  summary: 'approvals:summary',
  usage: ['/approvals'],
  args: z.object({}),
  visibility: 'ephemeral',
  async run(ctx) {
    return approvalList(await ctx.actionableApprovals(), ctx.user, ctx.t);
  },
});
