import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { checklistReport, incidentCard, listReport, timelineReport } from '../../src/incidents/card.ts';
import { draftPostmortem } from '../../src/incidents/resolve.ts';
import { incidentRef } from '../../src/incidents/card.ts';
import { incidents } from './service.ts';

export const timeline = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident timeline',
  summary: 'incidents:summary.timeline',
  usage: [{ syntax: '/incident timeline', note: 'incidents:usage.timeline' }],
  permission: 'incident',
  args: z.object({}),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    return timelineReport(inc, await svc.store.timeline(inc.id), ctx.t);
  },
});

export const list = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident list',
  summary: 'incidents:summary.list',
  usage: [{ syntax: '/incident list', note: 'incidents:usage.list' }],
  permission: 'incident',
  visibility: 'ephemeral',
  args: z.object({}),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const [open, recent] = await Promise.all([svc.store.open(), svc.store.recent(10)]);
    return listReport(open, recent, ctx.t);
  },
});

export const postmortem = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident postmortem',
  summary: 'incidents:summary.postmortem',
  usage: [{ syntax: '/incident postmortem', note: 'incidents:usage.postmortem' }],
  permission: 'incident',
  args: z.object({}),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    // Resolved: the stored draft; open: the draft as it would be now.
    const content = inc.postmortem ?? (await draftPostmortem(svc, inc));
    return {
      title: ctx.t('incidents:postmortem.file_title', { ref: incidentRef(inc) }),
      status: 'info',
      summary: ctx.t(inc.postmortem ? 'incidents:postmortem.stored' : 'incidents:postmortem.preview'),
      attachment: { filename: `postmortem-${inc.id}.md`, title: ctx.t('incidents:postmortem.file_title', { ref: incidentRef(inc) }), content },
    };
  },
});

/** `/incident` alone: in an incident's channel, the card (and checklist) again; elsewhere, the list. */
export async function cardOrList(ctx: Parameters<NonNullable<typeof list.run>>[0]) {
  const svc = incidents(ctx.config);
  const inc = await svc.incidentIn(ctx.channel);
  if (!inc) {
    const [open, recent] = await Promise.all([svc.store.open(), svc.store.recent(10)]);
    return listReport(open, recent, ctx.t);
  }
  return incidentCard(inc, svc.settings.roles, ctx.t);
}

export { checklistReport };
