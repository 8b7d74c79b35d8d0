import { z } from 'zod';
import { approvalList } from '../src/approvals/list.ts';
import { defineCommand } from '../src/core/define-command.ts';

export default defineCommand({
  name: 'approvals',
  summary: 'Pending approval requests you can approve, deny or cancel',
  usage: ['/approvals'],
  args: z.object({}),
  visibility: 'ephemeral',
  async run(ctx) {
    return approvalList(await ctx.actionableApprovals(), ctx.user);
  },
});
