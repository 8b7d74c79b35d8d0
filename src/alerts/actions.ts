import { parseDuration } from '../config/duration.ts';
import type { CommandContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import { userMention } from '../core/mention.ts';
import type { Report } from '../core/report.ts';
import { msg } from '../i18n/index.ts';
import type { AlertmanagerExecutor } from '../targets/alertmanager.ts';
import { alertsFor, type Alerts } from './index.ts';
import { matcherText } from './lists.ts';

/** Silences from Slack last at least a minute and at most a month (Alertmanager itself has no cap). */
const MIN_SILENCE = 60_000;
const MAX_SILENCE = 30 * 86_400_000;

export function alertmanagerOf(ctx: CommandContext<unknown>): AlertmanagerExecutor {
  const am = ctx.targets.alertmanager;
  if (!am) throw new UserError(msg('alerts:errors.not_configured'));
  return am;
}

function alertsOf(ctx: CommandContext<unknown>): Alerts {
  const alerts = alertsFor(ctx.config);
  if (!alerts) throw new UserError(msg('alerts:errors.unavailable'));
  return alerts;
}

async function groupOf(alerts: Alerts, id: string) {
  const row = await alerts.groups.get(id);
  if (!row) throw new UserError(msg('alerts:errors.unknown_group', { id }));
  return row;
}

/** The Acknowledge button: records who has the group, on the card. */
export async function acknowledge(ctx: CommandContext<{ group: string }>): Promise<Report> {
  const { t } = ctx;
  const alerts = alertsOf(ctx);
  await groupOf(alerts, ctx.args.group);
  const res = (await alerts.groups.acknowledge(ctx.args.group, ctx.user))!;
  await alerts.refresh(res.row);
  const summary = res.first
    ? t('alerts:ack.done', { id: res.row.id })
    : t('alerts:ack.already', { id: res.row.id, user: res.row.acked_by ? userMention(res.row.acked_by) : '-', at: t.time(res.row.acked_at!) });
  return { title: t('alerts:ack.title'), status: res.first ? 'ok' : 'info', summary };
}

/**
 * The Silence buttons: a silence in Alertmanager matching the group's labels (those it is grouped
 * by, which every alert of the group has), for `--for`. The card shows who silenced it until when.
 */
export async function silenceGroup(ctx: CommandContext<{ group: string; for: string }>): Promise<Report> {
  const { t } = ctx;
  const am = alertmanagerOf(ctx);
  const alerts = alertsOf(ctx);
  const row = await groupOf(alerts, ctx.args.group);
  const ms = parseDuration(ctx.args.for);
  if (!Number.isFinite(ms) || ms < MIN_SILENCE || ms > MAX_SILENCE) throw new UserError(msg('alerts:errors.silence_duration', { value: ctx.args.for }));
  // An empty group_by groups everything into one group with no labels: then the labels all its alerts share.
  const labels = Object.keys(row.group_labels).length ? row.group_labels : row.common_labels;
  if (!Object.keys(labels).length) throw new UserError(msg('alerts:errors.no_labels', { id: row.id }));
  const matchers = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
  const now = Date.now();
  const until = new Date(now + ms).toISOString();
  const id = await am.createSilence({
    matchers, startsAt: new Date(now).toISOString(), endsAt: until, createdBy: ctx.user,
    // i18n-exempt: the silence's comment in Alertmanager, read there by operators
    comment: `Silenced from Slack (opsbot alert group ${row.id}) by ${ctx.user}`,
  });
  const updated = await alerts.groups.addSilence(row.id, { id, by: ctx.user, until });
  if (updated) await alerts.refresh(updated);
  return { title: t('alerts:silence.title'), status: 'ok', summary: t('alerts:silence.done', { matchers: matcherText(matchers), until: t.time(until), id }) };
}

/** The Expire button of /silences: ends a silence now, and takes it off the cards that showed it. */
export async function expireSilence(ctx: CommandContext<{ id: string }>): Promise<Report> {
  const { t } = ctx;
  const am = alertmanagerOf(ctx);
  await am.expireSilence(ctx.args.id);
  const alerts = alertsFor(ctx.config);
  if (alerts) for (const row of await alerts.groups.dropSilence(ctx.args.id)) await alerts.refresh(row);
  return { title: t('alerts:expire.title'), status: 'ok', summary: t('alerts:expire.done', { id: ctx.args.id }) };
}
