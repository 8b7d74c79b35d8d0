import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import declare, { declareUsage } from './declare.ts';
import { followup, note, resolve, role, sev, status, update } from './manage.ts';
import { cardOrList, list, postmortem, timeline } from './view.ts';

const USAGE = [
  ...declareUsage,
  { syntax: '/incident role <role> @user', note: 'incidents:usage.role' },
  { syntax: '/incident update <text>', note: 'incidents:usage.update' },
  { syntax: '/incident status <investigating|identified|monitoring|resolved>', note: 'incidents:usage.status' },
  { syntax: '/incident sev <sev1..sev4>', note: 'incidents:usage.sev' },
  { syntax: '/incident note <text>', note: 'incidents:usage.note' },
  { syntax: '/incident timeline', note: 'incidents:usage.timeline' },
  { syntax: '/incident followup <text> [@owner]', note: 'incidents:usage.followup' },
  { syntax: '/incident resolve [summary]', note: 'incidents:usage.resolve' },
  { syntax: '/incident postmortem', note: 'incidents:usage.postmortem' },
  { syntax: '/incident list', note: 'incidents:usage.list' },
];

/** /incident (manual §8): declare, coordinate and close incidents, each in a channel of its own. */
export default defineCommand({
  name: 'incident',
  summary: 'incidents:summary.incident',
  usage: USAGE,
  permission: 'incident',
  args: z.object({}),
  subcommands: { declare, role, update, status, sev, note, timeline, followup, resolve, postmortem, list },
  run: (ctx) => cardOrList(ctx),
});
