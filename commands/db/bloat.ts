import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { bloatReport } from '../../src/db/bloat.ts';
import { guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db bloat',
  summary: 'db:usage.bloat',
  usage: [USAGE.bloat],
  args: z.object({ limit: z.coerce.number().int().min(1).max(100).default(15), ...targetArg }),
  async run(ctx) {
    const { name, pg } = pickTarget(ctx, [USAGE.bloat]);
    return guarded(ctx.config, name, bloatReport(ctx.t, ctx.config, pg, name, ctx.args.limit));
  },
});
