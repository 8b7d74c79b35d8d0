import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { sizesReport } from '../../src/db/sizes.ts';
import { guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db sizes',
  summary: 'db:usage.sizes',
  usage: [USAGE.sizes],
  args: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10), ...targetArg }),
  async run(ctx) {
    const { name, pg } = pickTarget(ctx, [USAGE.sizes]);
    return guarded(ctx.config, name, sizesReport(ctx.t, pg, name, ctx.args.limit));
  },
});
