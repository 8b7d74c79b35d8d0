import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import { channelMention } from '../../src/core/mention.ts';
import { msg } from '../../src/i18n/index.ts';
import { TYPES, type IncidentType } from '../../src/incidents/store.ts';
import { incidentRef } from '../../src/incidents/card.ts';
import { incidents } from './service.ts';
import { unescapeSlack, userId } from './text.ts';

export const DECLARE_FORM = 'incident.declare';
const MAX_TITLE = 200;

export const declareUsage = [
  { syntax: '/incident declare <title> [--sev sev1..sev4] [--type outage|data-loss|security] [--commander @user]', note: 'incidents:usage.declare' },
];

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'incident declare',
  summary: 'incidents:summary.declare',
  usage: declareUsage,
  permission: 'incident',
  positionals: ['title'],
  rest: true,
  visibility: 'ephemeral',
  args: z.object({
    title: z.string().max(MAX_TITLE).optional(),
    sev: z.string().regex(/^sev[0-9]$/).optional(),
    type: z.enum(TYPES).default('outage'),
    commander: z.string().optional(),
  }),
  async run(ctx) {
    const { t, args, config } = ctx;
    const severities = Object.keys(config.incidents.severities);
    const title = unescapeSlack(args.title ?? '').trim();
    if (!title) {
      // No title: a person typing gets the form; anything else (a schedule) needs the words.
      if (!ctx.interactive) throw new UserError(msg('incidents:errors.title_needed'), { usage: declareUsage });
      return {
        title: t('incidents:form.title'),
        status: 'info',
        form: {
          callback: DECLARE_FORM,
          title: t('incidents:form.title'),
          submit: t('incidents:form.submit'),
          meta: JSON.stringify({ channel: ctx.channel }),
          fields: [
            { id: 'title', label: t('incidents:form.field_title'), kind: 'text' },
            { id: 'sev', label: t('incidents:form.field_sev'), kind: 'select', initial: config.incidents.default_severity, options: severities.map((s) => ({ value: s, label: s })) },
            { id: 'type', label: t('incidents:form.field_type'), kind: 'select', initial: 'outage', options: TYPES.map((ty) => ({ value: ty, label: `${t(`incidents:type.${ty}`)} (§${ty === 'outage' ? '8.1' : ty === 'data-loss' ? '8.2' : '8.3'})` })) },
            { id: 'commander', label: t('incidents:form.field_commander'), kind: 'user', initial: ctx.user, optional: true },
          ],
        },
      };
    }
    const severity = args.sev ?? config.incidents.default_severity;
    if (!config.incidents.severities[severity]) throw new UserError(msg('incidents:errors.unknown_severity', { severity, known: severities }), { usage: declareUsage });
    const inc = await incidents(config).declare({
      title, severity, type: args.type as IncidentType, user: ctx.user, channel: ctx.channel,
      commander: args.commander ? userId(args.commander) : undefined,
    });
    return {
      title: t('incidents:declared.title', { ref: incidentRef(inc), title: inc.title }),
      status: 'info',
      summary: t('incidents:declared.summary', { channel: channelMention(inc.channel!), severity: inc.severity }),
    };
  },
});
