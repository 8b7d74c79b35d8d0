import { z } from 'zod';
import { alertmanagerOf, expireSilence } from '../src/alerts/actions.ts';
import { silencesReport } from '../src/alerts/lists.ts';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report } from '../src/core/report.ts';
import type { UsageLine } from '../src/core/usage.ts';

const USAGE: UsageLine[] = [
  { syntax: '/silences', note: 'alerts:usage.silences' },
  { syntax: '/silences expire <id>', note: 'alerts:usage.expire' },
];

const expire = defineCommand({
  // i18n-exempt: the command's name
  name: 'silences expire',
  summary: 'alerts:usage.expire',
  usage: [USAGE[1]],
  positionals: ['id'],
  restricted: true,
  permission: 'silence',
  visibility: 'ephemeral',
  args: z.object({ id: z.string().regex(/^[0-9a-f-]{8,64}$/i) }),
  run: expireSilence,
});

export default defineCommand({
  name: 'silences',
  summary: 'alerts:summary_silences',
  usage: USAGE,
  subcommands: { expire },
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const am = alertmanagerOf(ctx);
    return silencesReport(await am.silences(), am.url, ctx.t);
  },
});
