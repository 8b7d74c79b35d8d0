import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { slowReport } from '../../src/db/slow.ts';
import { guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db slow',
  summary: 'db:usage.slow',
  usage: [USAGE.slow],
  args: z.object({ limit: z.coerce.number().int().min(1).max(50).default(10), ...targetArg }),
  async run(ctx) {
    const { name, pg } = pickTarget(ctx, [USAGE.slow]);
    return guarded(ctx.config, name, slowReport(ctx.t, pg, name, ctx.args.limit));
  },
});
