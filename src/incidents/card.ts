import type { Action, Report, Section, Status } from '../core/report.ts';
import { channelMention, userMention } from '../core/mention.ts';
import type { T } from '../i18n/index.ts';
import { describe, peopleText } from './events.ts';
import { roleName } from './names.ts';

export { roleName };
import type { CandidateBackup } from '../backup/index.ts';
import { PLANS } from './plans.ts';
import type { ChecklistMark, Incident, TimelineEvent } from './store.ts';

const STATUS_LEVEL: Record<Incident['status'], Status> = { investigating: 'crit', identified: 'warn', monitoring: 'warn', resolved: 'ok' };
const ICON: Record<Incident['status'], string> = { investigating: '🔴', identified: '🟠', monitoring: '🟡', resolved: '✅' };


export const incidentRef = (inc: Pick<Incident, 'id'>): string => `#${inc.id}`;

/** "commander @a · comms (nobody)": every configured role, assigned or not. */
export function roleLines(inc: Incident, roles: string[], t: T): string[] {
  return roles.map((r) => `${roleName(r, t)}: ${inc.roles[r] ? userMention(inc.roles[r]) : t('incidents:card.unassigned')}`);
}

/** The pinned card: status, severity, roles, start and elapsed time; a picker per role. */
export function incidentCard(inc: Incident, roles: string[], t: T, now = Date.now()): Report {
  const end = inc.resolved_at ? new Date(inc.resolved_at).getTime() : now;
  const fields = [
    { label: t('incidents:card.status'), value: `${ICON[inc.status]} ${t(`incidents:status.${inc.status}`)}` },
    { label: t('incidents:card.severity'), value: inc.severity },
    { label: t('incidents:card.type'), value: t(`incidents:type.${inc.type}`) },
    { label: t('incidents:card.declared'), value: t('incidents:card.declared_by', { at: new Date(inc.declared_at), user: userMention(inc.declared_by) }) },
    { label: inc.resolved_at ? t('incidents:card.duration') : t('incidents:card.elapsed'), value: t.duration(end - new Date(inc.declared_at).getTime()) },
  ];
  if (inc.channel) fields.push({ label: t('incidents:card.channel'), value: channelMention(inc.channel) });
  const sections: Section[] = [{ title: t('incidents:card.roles'), lines: roleLines(inc, roles, t) }];
  if (inc.resolved_at) sections.push({ title: t('incidents:card.times'), lines: timesLines(inc, t) });
  if (inc.summary) sections.push({ title: t('incidents:card.summary'), lines: [peopleText(inc.summary)] });
  const actions: Action[] | undefined = inc.status === 'resolved' ? undefined
    : roles.map((r) => ({ id: 'incident.assign', kind: 'user' as const, value: `${inc.id}:${r}`, label: t('incidents:card.pick', { role: roleName(r, t) }) }));
  return {
    title: t('incidents:card.title', { ref: incidentRef(inc), title: inc.title }),
    status: STATUS_LEVEL[inc.status],
    summary: `${inc.severity} · ${t(`incidents:status.${inc.status}`)}`,
    fields,
    sections,
    actions,
    footer: t('incidents:card.footer'),
  };
}

/** Times to acknowledge, mitigate and resolve, from the declaration. */
export function timesLines(inc: Incident, t: T): string[] {
  const from = new Date(inc.declared_at).getTime();
  const since = (d: Date | null) => (d ? t.duration(new Date(d).getTime() - from) : t('incidents:card.not_yet'));
  return [
    t('incidents:times.ack', { d: since(inc.acknowledged_at) }),
    t('incidents:times.mitigate', { d: since(inc.mitigated_at) }),
    t('incidents:times.resolve', { d: since(inc.resolved_at) }),
  ];
}

/** The topic: severity, status and commander, short enough for Slack's 250 characters. */
export function topic(inc: Incident, t: T): string {
  const commander = inc.roles.commander ? userMention(inc.roles.commander) : t('incidents:card.unassigned');
  return t('incidents:topic', { severity: inc.severity, status: t(`incidents:status.${inc.status}`), commander, title: inc.title });
}

export function itemLine(inc: Incident, key: string, n: number, mark: ChecklistMark | undefined, t: T): string {
  const text = t(`incidents:plan.${inc.type}.${key}`);
  return mark ? `☑ ${n}. ${text} — ${t('incidents:checklist.done_by', { user: userMention(mark.done_by), at: new Date(mark.done_at) })}` : `☐ ${n}. ${text}`;
}

/** The manual's plan for the incident's type as a checklist; a button per step checks (or unchecks) it. */
export function checklistReport(inc: Incident, marks: ChecklistMark[], t: T, backups?: CandidateBackup[]): Report {
  const plan = PLANS[inc.type];
  const done = new Map(marks.map((m) => [m.item, m]));
  const sections: Section[] = plan.steps.map((step, i) => {
    const mark = done.get(step.key);
    const lines = [itemLine(inc, step.key, i + 1, mark, t)];
    if (step.commands.length && !mark) lines.push(t('incidents:checklist.try', { commands: step.commands.join('  ') }));
    const closed = inc.status === 'resolved';
    return {
      title: '',
      lines,
      actions: closed ? undefined : [{ id: 'incident.check', value: `${inc.id}:${step.key}`, label: mark ? t('incidents:checklist.undo') : t('incidents:checklist.done'), style: mark ? undefined : 'primary' as const }],
    };
  });
  if (backups) sections.splice(2, 0, backupSection(backups, t));
  return {
    title: t('incidents:checklist.title', { section: plan.section, name: t(`incidents:plan.${inc.type}.name`) }),
    status: 'info',
    summary: t('incidents:checklist.progress', { done: plan.steps.filter((s) => done.has(s.key)).length, total: plan.steps.length }),
    sections,
  };
}

/** §8.2 step 2, "find the latest backup": what /restore can take, with each one's verification. */
function backupSection(backups: CandidateBackup[], t: T): Section {
  if (!backups.length) return { title: t('incidents:backups.title'), lines: [t('incidents:backups.none')] };
  return {
    title: t('incidents:backups.title'),
    lines: backups.map((b) => t(`incidents:backups.${b.verified}`, { id: b.id, target: b.target, at: b.startedAt, size: b.sizeBytes, verified_at: b.verifiedAt ? t.time(b.verifiedAt) : '' })),
  };
}

/** One timeline entry as a line: its time in the reader's zone, who, and what. */
export function eventLine(e: TimelineEvent, t: T): string {
  const who = e.actor && !e.actor.startsWith('schedule:') ? `${userMention(e.actor)} ` : '';
  return `${t.time(new Date(e.at))}  ${t(`incidents:kind.${e.kind}`)}  ${who}${describe(e, t)}`;
}

export function timelineReport(inc: Incident, events: TimelineEvent[], t: T): Report {
  return {
    title: t('incidents:timeline.title', { ref: incidentRef(inc), title: inc.title }),
    status: 'info',
    summary: t('incidents:timeline.summary', { count: events.length, zone: t.timeZone }),
    sections: [{ title: '', lines: events.length ? events.map((e) => eventLine(e, t)) : [t('incidents:timeline.empty')] }],
  };
}

export function listReport(open: Incident[], recent: Incident[], t: T): Report {
  const line = (i: Incident) => t('incidents:list.line', {
    ref: incidentRef(i), title: i.title, severity: i.severity, status: t(`incidents:status.${i.status}`),
    channel: i.channel ? channelMention(i.channel) : '-', at: new Date(i.declared_at),
  });
  const closed = recent.filter((i) => i.status === 'resolved');
  return {
    title: t('incidents:list.title'),
    status: open.length ? 'warn' : 'ok',
    summary: t('incidents:list.summary', { count: open.length }),
    sections: [
      { title: t('incidents:list.open'), lines: open.length ? open.map(line) : [t('incidents:list.none_open')] },
      ...(closed.length ? [{ title: t('incidents:list.recent'), lines: closed.map(line) }] : []),
    ],
  };
}
