import { channelMention, userMention } from '../core/mention.ts';
import type { Report } from '../core/report.ts';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { incidentRef, timesLines } from './card.ts';
import { postmortem } from './postmortem.ts';
import type { Incidents } from './service.ts';
import type { Incident } from './store.ts';

/** The postmortem draft of an incident, as it stands now. */
export async function draftPostmortem(incidents: Incidents, inc: Incident): Promise<string> {
  const [events, marks, followups] = await Promise.all([incidents.store.timeline(inc.id), incidents.store.checklist(inc.id), incidents.store.followups(inc.id)]);
  return postmortem({ incident: inc, roles: incidents.settings.roles, events, marks, followups }, incidents.tFor(inc));
}

/**
 * Resolves: records the resolution and the times to acknowledge, mitigate and resolve, writes the
 * postmortem draft (stored, and uploaded to the channel), closes the checklist, tells the
 * announcement's thread, and leaves the channel to be archived `archive_after` later.
 */
export async function resolveIncident(incidents: Incidents, inc: Incident, by: string, summary?: string): Promise<Report> {
  if (inc.status === 'resolved') throw new UserError(msg('incidents:errors.already_resolved', { ref: incidentRef(inc) }));
  const resolved = await incidents.setStatus(inc, 'resolved', by, summary);
  const t = incidents.tFor(resolved);
  const draft = await draftPostmortem(incidents, resolved);
  await incidents.store.savePostmortem(resolved.id, draft);
  const slack = incidents.deps.slack;
  const channel = resolved.channel!;
  const archiveAt = new Date(new Date(resolved.resolved_at!).getTime() + incidents.settings.archive_after);
  const report: Report = {
    title: t('incidents:resolved.title', { ref: incidentRef(resolved), title: resolved.title }),
    status: 'ok',
    summary: t('incidents:resolved.summary', { user: userMention(by), at: archiveAt }),
    sections: [{ title: t('incidents:card.times'), lines: timesLines(resolved, t) }],
  };
  await slack.post(channel, report, t);
  await slack.upload(channel, { filename: `postmortem-${resolved.id}.md`, title: t('incidents:postmortem.file_title', { ref: incidentRef(resolved) }) , content: draft }, t('incidents:postmortem.comment'))
    .catch((err: unknown) => incidents.deps.log.warn({ id: resolved.id, err: String(err) }, 'postmortem upload failed'));
  if (resolved.checklist_ts) {
    await slack.update(channel, resolved.checklist_ts, await incidents.checklist(resolved), t).catch(() => {});
  }
  if (resolved.announce_channel && resolved.announce_ts) {
    const ta = incidents.deps.readers.forChannel(resolved.announce_channel);
    await slack.post(resolved.announce_channel, {
      title: ta('incidents:resolved.title', { ref: incidentRef(resolved), title: resolved.title }),
      status: 'ok',
      summary: ta('incidents:resolved.announce', { channel: channelMention(channel) }),
      sections: summary ? [{ title: '', lines: [summary] }] : undefined,
    }, ta, { threadTs: resolved.announce_ts }).catch(() => {});
  }
  return { title: t('incidents:resolved.title', { ref: incidentRef(resolved), title: resolved.title }), status: 'ok', summary: t('incidents:resolved.done') };
}
