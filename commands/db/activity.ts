import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { activityReport } from '../../src/db/activity.ts';
import { guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db activity',
  summary: 'db:usage.activity',
  usage: [USAGE.activity],
  args: z.object({ ...targetArg }),
  async run(ctx) {
    const { name, pg } = pickTarget(ctx, [USAGE.activity]);
    return guarded(ctx.config, name, activityReport(ctx.t, ctx.config, pg, name));
  },
});
