import type { App, BlockButtonAction, BlockUsersSelectAction } from '@slack/bolt';
import { quoteWord } from '../core/args.ts';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import { errorMessage, newRef } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { redactDeep, redactText } from '../core/redact.ts';
import { recordPin } from '../incidents/hooks.ts';
import type { Incidents } from '../incidents/service.ts';
import { escapeMrkdwn, renderReport } from './render.ts';

// Slack's names for the pin emoji people react with.
const PIN_REACTIONS = new Set(['pushpin', 'round_pushpin']);

/** The incident card's pickers, the checklist's buttons, the declare form, and 📌 reactions. */
export function registerIncidentHandlers(app: App, incidents: Incidents, dispatcher: Dispatcher, log: Logger): void {
  const readers = dispatcher.readers;
  const incidentCommand = () => dispatcher.commands.find((c) => c.name === 'incident');
  /** The same roles and channels as /incident itself; a refusal is told to the clicker. */
  const allowed = async (user: string, channel: string, tell: (text: string) => Promise<unknown>): Promise<boolean> => {
    const cmd = incidentCommand();
    const verdict = cmd ? await dispatcher.authorize(cmd, user, channel) : { ok: false as const, reason: undefined };
    if (verdict.ok) return true;
    const t = await readers.forUser(user, channel);
    await tell(`⛔ ${verdict.reason ? t.text(verdict.reason) : t('incidents:errors.unavailable')}`);
    return false;
  };
  const failed = async (err: unknown, user: string, what: string, tell: (text: string) => Promise<unknown>) => {
    const ref = newRef();
    // i18n-exempt: the log line's message
    log.error({ ref, user, err: errorMessage(err) }, `incident ${what} failed`);
    const t = await readers.forUser(user);
    await tell(t('core:internal_error', { ref })).catch(() => {});
  };

  app.action<BlockButtonAction>('incident.check', async ({ ack, body, action, respond }) => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(redactText(text)) });
    const channel = body.channel?.id ?? '';
    try {
      if (!(await allowed(body.user.id, channel, tell))) return;
      const [id, key] = (action.value ?? '').split(':');
      await incidents.toggleItem(Number(id), key, body.user.id);
    } catch (err) {
      await failed(err, body.user.id, 'checklist', tell);
    }
  });

  app.action<BlockUsersSelectAction>(/^incident\.assign:/, async ({ ack, body, action, respond }) => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(redactText(text)) });
    const channel = body.channel?.id ?? '';
    try {
      if (!(await allowed(body.user.id, channel, tell))) return;
      const [, id, role] = action.action_id.split(':');
      const inc = await incidents.store.get(Number(id));
      if (!inc || !action.selected_user) return;
      await incidents.assignRole(inc, role, action.selected_user, body.user.id);
    } catch (err) {
      const t = await readers.forUser(body.user.id);
      const text = (err as { localized?: (t: unknown) => string }).localized?.(t);
      if (text) await tell(text);
      else await failed(err, body.user.id, 'role', tell);
    }
  });

  // The declare form: its answers become `/incident declare …`, through the dispatcher like a typed command.
  app.view('incident.declare', async ({ ack, body, view, client }) => {
    await ack();
    const values = view.state.values;
    let meta: { channel?: string } = {};
    try {
      meta = JSON.parse(view.private_metadata || '{}') as typeof meta;
    } catch {
      // a view we did not build: answered in the user's DM below
    }
    const user = body.user.id;
    const channel = meta.channel ?? user;
    const title = values.title?.title?.value?.trim() ?? '';
    const sev = values.sev?.sev?.selected_option?.value;
    const type = values.type?.type?.selected_option?.value;
    const commander = values.commander?.commander?.selected_user;
    const text = ['declare', quoteWord(title), sev && `--sev ${sev}`, type && `--type ${type}`, commander && `--commander ${commander}`].filter(Boolean).join(' ');
    await dispatcher.handle({ command: '/incident', text, user, channel }, async (reply: Reply) => {
      const message = redactDeep(renderReport(reply.report, reply.t));
      if (reply.ephemeral) await client.chat.postEphemeral({ channel, user, ...message });
      else await client.chat.postMessage({ channel, ...message });
    });
  });

  // 📌 on a message in an incident's channel puts it on the timeline, at the message's own time.
  app.event('reaction_added', async ({ event }) => {
    if (!PIN_REACTIONS.has(event.reaction) || event.item.type !== 'message') return;
    try {
      await recordPin(incidents, { channel: event.item.channel, ts: event.item.ts, by: event.user });
    } catch (err) {
      log.warn({ channel: event.item.channel, err: errorMessage(err) }, 'pinned message could not join the timeline');
    }
  });
}
