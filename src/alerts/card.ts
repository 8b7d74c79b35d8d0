import type { Config } from '../config/schema.ts';
import { quoteWord } from '../core/args.ts';
import { commandButton } from '../core/command-action.ts';
import { userMention } from '../core/mention.ts';
import type { Action, Report, Section, Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { AlertGroupRow } from './store.ts';
import { expressionLink, type WebhookAlert } from './webhook.ts';

/** How long the card's Silence buttons silence for. */
export const SILENCE_CHOICES = ['1h', '4h'] as const;
/** Alerts listed on one card; the rest are counted. */
const MAX_LISTED = 20;

/** Labels in name order: the state store (jsonb) keeps no order of its own. */
const labelText = (labels: Record<string, string>, skip: Set<string> = new Set()) =>
  Object.entries(labels).filter(([k]) => !skip.has(k)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ');

/** A firing group is as bad as its severity label says; resolved is fine. */
function statusOf(row: AlertGroupRow): Status {
  if (row.status === 'resolved') return 'ok';
  const severity = row.common_labels.severity ?? row.group_labels.severity;
  return severity === 'critical' || severity === 'page' ? 'crit' : 'warn';
}

function alertLine(a: WebhookAlert, common: Set<string>, t: T): string {
  const own = labelText(a.labels, common);
  const what = a.annotations.summary ?? a.annotations.description ?? '';
  const when = a.status === 'resolved' && a.endsAt ? t('alerts:card.resolved_at', { at: t.time(a.endsAt) }) : t('alerts:card.since', { at: t.time(a.startsAt) });
  const icon = a.status === 'resolved' ? '✅' : '🔥';
  return [`${icon} ${own || a.labels.alertname || ''}`.trim(), what, when].filter(Boolean).join(' · ');
}

/** The card of one alert group: what fires, where to look, who has it, and the buttons. */
export function alertCard(row: AlertGroupRow, config: Config, t: T): Report {
  const p = row.payload;
  const name = row.common_labels.alertname ?? row.group_labels.alertname ?? p.receiver;
  const firing = p.alerts.filter((a) => a.status === 'firing').length;
  const resolved = row.status === 'resolved';
  const title = resolved ? t('alerts:card.title_resolved', { name }) : t('alerts:card.title_firing', { name, count: firing });
  const common = new Set(Object.keys(row.common_labels));
  const listed = p.alerts.slice(0, MAX_LISTED).map((a) => alertLine(a, common, t));
  const more = p.alerts.length - listed.length + p.truncatedAlerts;
  if (more > 0) listed.push(t('alerts:card.more', { count: more }));
  const sections: Section[] = [{ title: t('alerts:card.alerts'), lines: listed }];

  const fields = [{ label: t('alerts:card.labels'), value: labelText(row.common_labels) || '-' }];
  if (row.acked_by) fields.push({ label: t('alerts:card.acked'), value: t('alerts:card.acked_by', { user: userMention(row.acked_by), at: t.time(row.acked_at!) }) });
  const live = row.silences.filter((s) => Date.parse(s.until) > Date.now());
  if (live.length) {
    fields.push({
      label: t('alerts:card.silenced'),
      value: live.map((s) => t('alerts:card.silenced_by', { user: userMention(s.by), until: t.time(s.until), id: s.id })).join('\n'),
    });
  }

  const actions: Action[] = [];
  const service = row.common_labels.service;
  if (service && Object.hasOwn(config.services, service)) actions.push({ id: 'alert.diagnose', label: t('alerts:button.diagnose', { service }), value: service });
  if (!resolved) {
    for (const d of SILENCE_CHOICES) actions.push({ id: `alert.silence.${d}`, label: t(`alerts:button.silence_${d}`), value: `${row.id} --for ${d}` });
    if (!row.acked_by) actions.push({ id: 'alert.ack', label: t('alerts:button.ack'), value: row.id, style: 'primary' });
    // An alert that turns out to be an outage becomes an incident in one click: the line runs as
    // the clicker through the dispatcher, so their role for /incident applies; the title names
    // the alert (and its service) so the incident channel says where it came from.
    const title = service ? `${name} (${service})` : name;
    actions.push(commandButton(t('alerts:button.declare'), `/incident declare ${quoteWord(title)}`, 'danger'));
  }
  const link = p.alerts.map((a) => expressionLink(a.generatorURL, config.alerts.prometheus?.url)).find(Boolean);
  if (link) actions.push({ id: 'alert.link', label: t('alerts:button.prometheus'), value: row.id, url: link });

  return {
    title,
    status: statusOf(row),
    summary: p.commonAnnotations.summary ?? p.commonAnnotations.description,
    fields,
    sections,
    actions,
    footer: t('alerts:card.footer', { id: row.id, receiver: p.receiver }),
  };
}
