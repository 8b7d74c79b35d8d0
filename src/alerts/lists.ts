import { userMention } from '../core/mention.ts';
import type { Report, Section } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { AmAlertGroup, AmMatcher, AmSilence } from '../targets/alertmanager.ts';

/** Groups shown by /alerts, and silences by /silences; the rest are counted. */
const MAX_SECTIONS = 20;
const MAX_ALERTS_PER_GROUP = 15;

const labelText = (labels: Record<string, string>, skip: Set<string> = new Set()) =>
  Object.entries(labels).filter(([k]) => !skip.has(k)).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ');

/** `alertname="HighErrorRate", service=~"back.*"`: how Alertmanager itself writes matchers. */
export function matcherText(ms: AmMatcher[]): string {
  const op = (m: AmMatcher) => (m.isRegex ? (m.isEqual === false ? '!~' : '=~') : m.isEqual === false ? '!=' : '=');
  return ms.map((m) => `${m.name}${op(m)}${JSON.stringify(m.value)}`).join(', ');
}

/** /alerts: the firing alerts Alertmanager holds, by its groups (silenced and inhibited ones left out). */
export function alertsReport(groups: AmAlertGroup[], url: string, t: T): Report {
  const live = groups.filter((g) => g.alerts.length > 0);
  const total = live.reduce((n, g) => n + g.alerts.length, 0);
  if (total === 0) return { title: t('alerts:list.title'), status: 'ok', summary: t('alerts:list.none'), footer: t('alerts:list.source', { url }) };
  const sections: Section[] = live.slice(0, MAX_SECTIONS).map((g) => {
    const keys = new Set(Object.keys(g.labels));
    const lines = g.alerts.slice(0, MAX_ALERTS_PER_GROUP).map((a) => {
      const own = labelText(a.labels, keys);
      const what = a.annotations.summary ?? a.annotations.description ?? '';
      return ['🔥', own || a.labels.alertname, what, t('alerts:card.since', { at: t.time(a.startsAt) })].filter(Boolean).join(' · ');
    });
    if (g.alerts.length > MAX_ALERTS_PER_GROUP) lines.push(t('alerts:card.more', { count: g.alerts.length - MAX_ALERTS_PER_GROUP }));
    return { title: `${labelText(g.labels) || '-'} → ${g.receiver.name}`, lines };
  });
  const hidden = live.length - sections.length;
  const severities = live.flatMap((g) => g.alerts.map((a) => a.labels.severity));
  return {
    title: t('alerts:list.title'),
    status: severities.some((s) => s === 'critical' || s === 'page') ? 'crit' : 'warn',
    summary: t('alerts:list.summary', { count: total, groups: live.length }),
    sections,
    footer: hidden > 0 ? `${t('alerts:list.more_groups', { count: hidden })} · ${t('alerts:list.source', { url })}` : t('alerts:list.source', { url }),
  };
}

/** /silences: the silences in force or about to be, each with its Expire button. */
export function silencesReport(all: AmSilence[], url: string, t: T): Report {
  const live = all.filter((s) => s.status.state !== 'expired').sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));
  if (live.length === 0) return { title: t('alerts:silences.title'), status: 'ok', summary: t('alerts:silences.none'), footer: t('alerts:list.source', { url }) };
  const sections: Section[] = live.slice(0, MAX_SECTIONS).map((s) => ({
    title: matcherText(s.matchers),
    lines: [
      s.status.state === 'pending'
        ? t('alerts:silences.pending', { from: t.time(s.startsAt), until: t.time(s.endsAt) })
        : t('alerts:silences.until', { until: t.time(s.endsAt), left: t.duration(Math.max(0, Date.parse(s.endsAt) - Date.now())) }),
      t('alerts:silences.by', { user: /^[UW][A-Z0-9]+$/.test(s.createdBy) ? userMention(s.createdBy) : s.createdBy, comment: s.comment, id: s.id }),
    ],
    actions: [{
      id: 'silence.expire', label: t('alerts:button.expire'), value: s.id, style: 'danger',
      confirm: { title: t('alerts:expire_confirm.title'), text: t('alerts:expire_confirm.text', { matchers: matcherText(s.matchers) }), confirm: t('alerts:button.expire'), deny: t('alerts:expire_confirm.deny') },
    }],
  }));
  return {
    title: t('alerts:silences.title'),
    status: 'info',
    summary: t('alerts:silences.summary', { count: live.length }),
    sections,
    footer: live.length > sections.length ? `${t('alerts:silences.more', { count: live.length - sections.length })} · ${t('alerts:list.source', { url })}` : t('alerts:list.source', { url }),
  };
}
