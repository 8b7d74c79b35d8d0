import type { App, BlockButtonAction } from '@slack/bolt';
import type { ApprovalEngine } from '../approvals/engine.ts';
import { approvalList } from '../approvals/list.ts';
import { errorMessage, newRef } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { T } from '../i18n/index.ts';
import { redactDeep, redactText } from '../core/redact.ts';
import { escapeMrkdwn, renderReport } from './render.ts';

const DENY_VIEW = 'approval.deny';

/** Buttons on approval cards, the deny-reason modal, and the App Home list. */
export function registerApprovalHandlers(app: App, engine: ApprovalEngine, log: Logger): void {
  const { readers } = engine;
  /** Logs the real error with a reference; the clicker sees only the reference, like the dispatcher's errors. */
  const internal = (err: unknown, fields: Record<string, unknown>, what: string, t: T): string => {
    const ref = newRef();
    log.error({ ...fields, ref, err: errorMessage(err) }, what);
    return t('approvals:reply.internal_error', { ref });
  };

  app.action<BlockButtonAction>(/^approval\.(approve|deny|cancel|stop)$/, async ({ ack, body, action, respond, client }) => {
    await ack();
    const id = action.value ?? '';
    const user = body.user.id;
    // Replies quote request arguments typed by users: escaped like every other text, secrets removed.
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(redactText(text)) });
    // Replies to a click are the clicker's alone, in their language; the card keeps its channel's.
    const t = await readers.forUser(user);
    try {
      if (action.action_id === 'approval.deny') {
        // Refused at the click: nobody is asked for a reason only to be told they may not deny.
        const refusal = await engine.denyRefusal(id, user);
        if (refusal) {
          await tell(refusal);
          return;
        }
        const channel = body.container?.channel_id ?? body.channel?.id ?? '';
        await client.views.open({ trigger_id: body.trigger_id, view: denyModal(id, channel, t) });
        return;
      }
      const text = action.action_id === 'approval.approve' ? await engine.approve(id, user)
        : action.action_id === 'approval.stop' ? await engine.stopRun(id, user)
          : await engine.cancel(id, user);
      await tell(text);
    } catch (err) {
      // i18n-exempt: the log line's message
      await tell(internal(err, { id, user, action: action.action_id }, 'approval action failed', t)).catch(() => {});
    }
  });

  app.view(DENY_VIEW, async ({ ack, body, view, client }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    const t = await readers.forUser(body.user.id);
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { reason: t('approvals:modal.reason_too_short') } });
      return;
    }
    await ack();
    let meta: { id?: string; channel?: string } = {};
    try {
      meta = JSON.parse(view.private_metadata || '{}') as typeof meta;
    } catch {
      // a view we did not build; nothing to deny
    }
    const id = meta.id ?? '';
    // i18n-exempt: the log line's message
    const text = await engine.deny(id, body.user.id, reason).catch((err: unknown) => internal(err, { id, user: body.user.id }, 'deny failed', t));
    if (meta.channel) await client.chat.postEphemeral({ channel: meta.channel, user: body.user.id, text: escapeMrkdwn(redactText(text)) }).catch(() => {});
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const t = await readers.forUser(event.user);
    try {
      const report = approvalList(await engine.actionableFor(event.user), event.user, t);
      const { blocks } = redactDeep(renderReport(report));
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks } });
    } catch (err) {
      // i18n-exempt: the log line's message
      internal(err, { user: event.user }, 'App Home could not be published', t);
    }
  });
}

/** The deny-reason modal, in the clicker's language. */
function denyModal(id: string, channel: string, t: T) {
  return {
    type: 'modal' as const,
    callback_id: DENY_VIEW,
    private_metadata: JSON.stringify({ id, channel }),
    title: { type: 'plain_text' as const, text: t('approvals:modal.title') },
    submit: { type: 'plain_text' as const, text: t('approvals:button.deny') },
    close: { type: 'plain_text' as const, text: t('approvals:button.back') },
    blocks: [
      {
        type: 'input' as const,
        block_id: 'reason',
        label: { type: 'plain_text' as const, text: t('approvals:modal.label', { id }) },
        element: { type: 'plain_text_input' as const, action_id: 'reason', multiline: true },
      },
    ],
  };
}
