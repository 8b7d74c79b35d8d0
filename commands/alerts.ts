import { z } from 'zod';
import { acknowledge, alertmanagerOf, silenceGroup } from '../src/alerts/actions.ts';
import { alertsReport } from '../src/alerts/lists.ts';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report } from '../src/core/report.ts';
import type { UsageLine } from '../src/core/usage.ts';

const USAGE: UsageLine[] = [
  { syntax: '/alerts', note: 'alerts:usage.list' },
  { syntax: '/alerts ack <group>', note: 'alerts:usage.ack' },
  { syntax: '/alerts silence <group> [--for 1h]', note: 'alerts:usage.silence' },
];

const ack = defineCommand({
  // i18n-exempt: the command's name
  name: 'alerts ack',
  summary: 'alerts:usage.ack',
  usage: [USAGE[1]],
  positionals: ['group'],
  visibility: 'ephemeral',
  args: z.object({ group: z.string().regex(/^[0-9]+$/) }),
  run: acknowledge,
});

const silence = defineCommand({
  // i18n-exempt: the command's name
  name: 'alerts silence',
  summary: 'alerts:usage.silence',
  usage: [USAGE[2]],
  positionals: ['group'],
  // It changes what Alertmanager notifies: a grant (permissions.silence), shared with /silences expire.
  restricted: true,
  permission: 'silence',
  visibility: 'ephemeral',
  args: z.object({ group: z.string().regex(/^[0-9]+$/), for: z.string().default('1h') }),
  run: silenceGroup,
});

export default defineCommand({
  name: 'alerts',
  summary: 'alerts:summary',
  usage: USAGE,
  subcommands: { ack, silence },
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const am = alertmanagerOf(ctx);
    return alertsReport(await am.alertGroups(), am.url, ctx.t);
  },
});
