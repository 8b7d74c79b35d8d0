import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { indexesReport } from '../../src/db/indexes.ts';
import { guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db indexes',
  summary: 'db:usage.indexes',
  usage: [USAGE.indexes],
  args: z.object({ limit: z.coerce.number().int().min(1).max(100).default(15), ...targetArg }),
  async run(ctx) {
    const { name, pg } = pickTarget(ctx, [USAGE.indexes]);
    return guarded(ctx.config, name, indexesReport(ctx.t, pg, name, ctx.args.limit));
  },
});
