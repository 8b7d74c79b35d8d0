import { channelMention, userMention } from '../core/mention.ts';
import { hasKey, type T } from '../i18n/index.ts';
import { roleName } from './names.ts';
import type { TimelineEvent } from './store.ts';

const USER = /<@([UW][A-Z0-9]{2,40})(?:\|[^>]*)?>/g;
const CHANNEL = /<#([CG][A-Z0-9]{2,40})(?:\|[^>]*)?>/g;

/**
 * Free text people typed (Slack sends their mentions as `<@U…|name>`): the user and channel
 * mentions they wrote stay mentions; anything else is text, escaped by the renderer. Broadcasts
 * (`<!channel>`) are never made live.
 */
export function peopleText(text: string): string {
  return text.replace(USER, (_, id: string) => userMention(id)).replace(CHANNEL, (_, id: string) => channelMention(id));
}

/** An outcome word the dispatcher or engine audited (ok, warn, crit, denied, succeeded, …) in the reader's language. */
export const outcomeWord = (outcome: string, t: T): string => (hasKey(`incidents:outcome.${outcome}`) ? t(`incidents:outcome.${outcome}`) : outcome);

/**
 * What a timeline entry says, in the reader's language. Entries are stored as their kind and
 * parameters (never as rendered text with live mentions, which only the writing process can
 * make), so every reader sees them in their own language.
 */
export function describe(e: TimelineEvent, t: T): string {
  const d = e.detail as Record<string, string | undefined>;
  const text = peopleText(e.text);
  switch (e.kind) {
    case 'declared':
      return t('incidents:event.declared', { severity: d.severity, type: t(`incidents:type.${d.type}`), title: e.text });
    case 'role':
      return t('incidents:event.role', { role: roleName(d.role ?? '', t), user: userMention(d.user ?? '') });
    case 'status':
    case 'resolved':
      return t('incidents:event.status', { from: t(`incidents:status.${d.from}`), to: t(`incidents:status.${d.to}`) }) + (text ? ` — ${text}` : '');
    case 'severity':
      return t('incidents:event.severity', { from: d.from, to: d.to });
    case 'checklist':
      return t(d.done === 'yes' ? 'incidents:event.checked' : 'incidents:event.unchecked', { step: t(`incidents:plan.${d.type}.${d.step}`) });
    case 'command':
      return t('incidents:event.command', { line: d.line, outcome: outcomeWord(d.outcome ?? '', t) }) + (d.result ? ` — ${d.result}` : '');
    case 'approval':
      return t(`incidents:event.approval_${d.stage}`, { id: d.id, line: d.line, outcome: outcomeWord(d.outcome ?? '', t) }) + (d.result ? ` — ${d.result}` : '');
    case 'followup':
      return d.owner ? t('incidents:event.followup_owned', { text, user: userMention(d.owner) }) : text;
    case 'reminder':
      return t('incidents:event.reminder', { after: t.duration(Number(d.after ?? 0)) });
    default:
      // pin, note, update: what people wrote.
      return text;
  }
}
