import type { App, BlockButtonAction } from '@slack/bolt';
import type { Dispatcher } from '../core/dispatch.ts';
import { errorMessage, newRef } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { redactDeep, redactText } from '../core/redact.ts';
import type { Checklists } from '../checklists/index.ts';
import { CHECK_ACTION } from '../checklists/report.ts';
import { escapeMrkdwn, renderReport } from './render.ts';

/** A person's check on a checklist item: who and when are recorded, and the checklist redrawn in place. */
export function registerChecklistActions(app: App, checklists: Checklists, dispatcher: Dispatcher, log: Logger): void {
  app.action<BlockButtonAction>(CHECK_ACTION, async ({ ack, body, action, respond, client }) => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? body.container?.channel_id ?? '';
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(redactText(text)) });
    try {
      // The same roles and channels as typing /checklist there.
      const cmd = dispatcher.commands.find((c) => c.name === 'checklist');
      const verdict = cmd ? await dispatcher.authorize(cmd, user, channel) : undefined;
      if (!verdict?.ok) {
        const t = await dispatcher.readers.forUser(user, channel);
        if (verdict) await tell(`⛔ ${t.text(verdict.reason)}`);
        return;
      }
      const [id, item] = (action.value ?? '').split(':');
      const run = await checklists.store.get(id);
      if (!run || !checklists.items(run.kind).some((i) => i.key === item && i.person)) return;
      await checklists.store.toggle(id, item, user);
      const t = dispatcher.readers.forChannel(run.channel);
      const ts = body.message?.ts ?? body.container?.message_ts;
      if (ts) await client.chat.update({ channel, ts, ...redactDeep(renderReport(await checklists.report(run, t), t)) });
    } catch (err) {
      const ref = newRef();
      log.error({ ref, user, err: errorMessage(err) }, 'checklist check failed');
      const t = await dispatcher.readers.forUser(user);
      await tell(t('core:internal_error', { ref })).catch(() => {});
    }
  });
}
