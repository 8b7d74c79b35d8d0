import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import { userMention } from '../../src/core/mention.ts';
import type { Report } from '../../src/core/report.ts';
import { msg } from '../../src/i18n/index.ts';
import { incidentRef } from '../../src/incidents/card.ts';
import { roleName } from '../../src/incidents/names.ts';
import { peopleText } from '../../src/incidents/events.ts';
import { resolveIncident } from '../../src/incidents/resolve.ts';
import { STATUSES } from '../../src/incidents/store.ts';
import { incidents } from './service.ts';
import { textAndOwner, unescapeSlack, userId } from './text.ts';

// The words people write on an incident (updates, notes, follow-ups) are kept whole, up to this.
const MAX_TEXT = 3000;
const rawText = z.object({ text: z.string().max(MAX_TEXT).default('') });

/** A short private confirmation; what changed is visible in the channel (card, timeline, posts). */
const done = (title: string, summary: string): Report => ({ title, status: 'ok', summary });

const needText = (text: string, key: string, syntax: string) => {
  const value = unescapeSlack(text).trim();
  if (!value) throw new UserError(msg(key), { usage: [{ syntax, note: 'incidents:usage.in_channel' }] });
  return value;
};

export const role = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident role',
  summary: 'incidents:summary.role',
  usage: [{ syntax: '/incident role <role> @user', note: 'incidents:usage.role' }],
  permission: 'incident',
  positionals: ['role', 'user'],
  visibility: 'ephemeral',
  args: (config) => z.object({ role: z.enum(config.incidents.roles as [string, ...string[]]), user: z.string() }),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    const user = userId(ctx.args.user);
    await svc.assignRole(inc, ctx.args.role, user, ctx.user);
    return done(incidentRef(inc), ctx.t('incidents:role_set', { role: roleName(ctx.args.role, ctx.t), user: userMention(user) }));
  },
});

export const update = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident update',
  summary: 'incidents:summary.update',
  usage: [{ syntax: '/incident update <text>', note: 'incidents:usage.update' }],
  permission: 'incident',
  raw: 'text',
  visibility: 'ephemeral',
  args: rawText,
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    await svc.update(inc, needText(ctx.args.text, 'incidents:errors.update_needed', '/incident update <text>'), ctx.user);
    return done(incidentRef(inc), ctx.t(inc.announce_channel ? 'incidents:update.posted_both' : 'incidents:update.posted'));
  },
});

export const status = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident status',
  summary: 'incidents:summary.status',
  usage: [{ syntax: '/incident status <investigating|identified|monitoring|resolved>', note: 'incidents:usage.status' }],
  permission: 'incident',
  positionals: ['status'],
  visibility: 'ephemeral',
  args: z.object({ status: z.enum(STATUSES) }),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    if (ctx.args.status === 'resolved') return resolveIncident(svc, inc, ctx.user);
    if (inc.status === 'resolved') throw new UserError(msg('incidents:errors.already_resolved', { ref: incidentRef(inc) }));
    await svc.setStatus(inc, ctx.args.status, ctx.user);
    return done(incidentRef(inc), ctx.t('incidents:status_set', { status: ctx.t(`incidents:status.${ctx.args.status}`) }));
  },
});

export const sev = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident sev',
  summary: 'incidents:summary.sev',
  usage: [{ syntax: '/incident sev <sev1..sev4>', note: 'incidents:usage.sev' }],
  permission: 'incident',
  positionals: ['severity'],
  visibility: 'ephemeral',
  args: (config) => z.object({ severity: z.enum(Object.keys(config.incidents.severities) as [string, ...string[]]) }),
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    await svc.setSeverity(inc, ctx.args.severity, ctx.user);
    const freeze = ctx.config.incidents.severities[ctx.args.severity]?.freeze;
    return done(incidentRef(inc), ctx.t(freeze ? 'incidents:sev_set_freeze' : 'incidents:sev_set', { severity: ctx.args.severity }));
  },
});

export const note = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident note',
  summary: 'incidents:summary.note',
  usage: [{ syntax: '/incident note <text>', note: 'incidents:usage.note' }],
  permission: 'incident',
  raw: 'text',
  visibility: 'ephemeral',
  args: rawText,
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    await svc.record(inc, 'note', ctx.user, needText(ctx.args.text, 'incidents:errors.note_needed', '/incident note <text>'));
    return done(incidentRef(inc), ctx.t('incidents:noted'));
  },
});

export const followup = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident followup',
  summary: 'incidents:summary.followup',
  usage: [{ syntax: '/incident followup <text> [@owner]', note: 'incidents:usage.followup' }],
  permission: 'incident',
  raw: 'text',
  visibility: 'ephemeral',
  args: rawText,
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    const { text, owner } = textAndOwner(needText(ctx.args.text, 'incidents:errors.followup_needed', '/incident followup <text> [@owner]'));
    await svc.store.addFollowup(inc.id, text, owner ?? null, ctx.user);
    await svc.record(inc, 'followup', ctx.user, text, owner ? { owner } : undefined);
    return done(incidentRef(inc), owner ? ctx.t('incidents:followup_owned', { text: peopleText(text), user: userMention(owner) }) : ctx.t('incidents:followup_added', { text: peopleText(text) }));
  },
});

export const resolve = defineCommand({
  // i18n-exempt: the command's name
  name: 'incident resolve',
  summary: 'incidents:summary.resolve',
  usage: [{ syntax: '/incident resolve [summary]', note: 'incidents:usage.resolve' }],
  permission: 'incident',
  raw: 'text',
  visibility: 'ephemeral',
  args: rawText,
  async run(ctx) {
    const svc = incidents(ctx.config);
    const inc = await svc.require(ctx.channel);
    const summary = unescapeSlack(ctx.args.text).trim();
    return resolveIncident(svc, inc, ctx.user, summary || undefined);
  },
});
