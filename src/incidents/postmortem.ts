import { plainMentions, userMention } from '../core/mention.ts';
import type { T } from '../i18n/index.ts';
import { timesLines } from './card.ts';
import { describe, outcomeWord, peopleText } from './events.ts';
import { roleName } from './names.ts';
import { PLANS } from './plans.ts';
import type { ChecklistMark, Followup, Incident, TimelineEvent } from './store.ts';

export interface PostmortemInput {
  incident: Incident;
  roles: string[];
  events: TimelineEvent[];
  marks: ChecklistMark[];
  followups: Followup[];
}

/** Markdown table cells: a "|" or a line break would end the cell. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const who = (user: string | null) => (user && !user.startsWith('schedule:') ? plainMentions(userMention(user)) : '');

/**
 * The postmortem draft (manual §8.1 step 6, 故障报告) in the channel's language: what the bot
 * knows filled in (times, roles, timeline, commands and their outcomes, the checklist, follow-ups),
 * and headed gaps for what only people know (impact, root cause, lessons).
 */
export function postmortem(p: PostmortemInput, t: T): string {
  const inc = p.incident;
  const out: string[] = [];
  const h = (key: string) => out.push('', `## ${t(`incidents:postmortem.${key}`)}`, '');
  out.push(`# ${t('incidents:postmortem.title', { id: inc.id, title: inc.title })}`, '');
  out.push(`> ${t('incidents:postmortem.draft')}`);

  h('summary');
  out.push(inc.summary ? plainMentions(peopleText(inc.summary)) : t('incidents:postmortem.fill_in'));

  h('impact');
  out.push(`- ${t('incidents:postmortem.severity', { severity: inc.severity })}`);
  out.push(`- ${t('incidents:postmortem.type', { type: t(`incidents:type.${inc.type}`) })}`);
  out.push(`- ${t('incidents:postmortem.window', { from: t.time(new Date(inc.declared_at)), to: inc.resolved_at ? t.time(new Date(inc.resolved_at)) : '-' })}`);
  out.push(`- ${t('incidents:postmortem.users_affected')}`);

  h('times');
  for (const line of timesLines(inc, t)) out.push(`- ${line}`);

  h('roles');
  for (const r of p.roles) out.push(`- ${roleName(r, t)}: ${inc.roles[r] ? who(inc.roles[r]) : t('incidents:card.unassigned')}`);

  h('timeline');
  out.push(`| ${t('incidents:postmortem.col_time')} | ${t('incidents:postmortem.col_kind')} | ${t('incidents:postmortem.col_who')} | ${t('incidents:postmortem.col_what')} |`, '|---|---|---|---|');
  for (const e of p.events) out.push(`| ${t.time(new Date(e.at))} | ${t(`incidents:kind.${e.kind}`)} | ${cell(who(e.actor))} | ${cell(plainMentions(describe(e, t)))} |`);

  h('commands');
  const commands = p.events.filter((e) => e.kind === 'command' || e.kind === 'approval');
  if (!commands.length) out.push(t('incidents:postmortem.no_commands'));
  for (const e of commands) {
    const outcome = typeof e.detail.outcome === 'string' ? ` → ${outcomeWord(e.detail.outcome, t)}` : '';
    const line = String(e.detail.line ?? '').replace(/`/g, "'");
    out.push(`- ${t.time(new Date(e.at))} ${who(e.actor)} \`${line}\`${outcome}${e.detail.result ? `: ${cell(plainMentions(String(e.detail.result)))}` : ''}`);
  }

  h('checklist');
  const done = new Map(p.marks.map((m) => [m.item, m]));
  const plan = PLANS[inc.type];
  out.push(t('incidents:postmortem.plan', { section: plan.section, name: t(`incidents:plan.${inc.type}.name`) }), '');
  plan.steps.forEach((s, i) => {
    const m = done.get(s.key);
    out.push(`- [${m ? 'x' : ' '}] ${i + 1}. ${t(`incidents:plan.${inc.type}.${s.key}`)}${m ? ` (${who(m.done_by)}, ${t.time(new Date(m.done_at))})` : ''}`);
  });

  h('root_cause');
  out.push(t('incidents:postmortem.fill_in'));
  h('lessons');
  out.push(t('incidents:postmortem.fill_in'));

  h('followups');
  if (!p.followups.length) out.push(t('incidents:postmortem.no_followups'));
  for (const f of p.followups) out.push(`- [ ] ${plainMentions(peopleText(f.text))}${f.owner ? ` (${t('incidents:postmortem.owner', { user: who(f.owner) })})` : ''}`);
  out.push('');
  return out.join('\n');
}
