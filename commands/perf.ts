import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report } from '../src/core/report.ts';
import { gatherPerf } from '../src/perf/gather.ts';
import { perfReport } from '../src/perf/report.ts';

export default defineCommand({
  name: 'perf',
  summary: 'perf:summary',
  usage: ['/perf'],
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const t0 = performance.now();
    const run = await gatherPerf(ctx.targets, ctx.config);
    return perfReport(ctx.t, ctx.config, run, Math.round(performance.now() - t0));
  },
});
