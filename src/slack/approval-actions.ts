import type { App, BlockButtonAction } from '@slack/bolt';
import type { ApprovalEngine } from '../core/approvals.ts';
import { approvalList } from '../core/approval-list.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { redactDeep } from '../core/redact.ts';
import { renderReport } from './render.ts';

const DENY_VIEW = 'approval.deny';

/** Buttons on approval cards, the deny-reason modal, and the App Home list. */
export function registerApprovalHandlers(app: App, engine: ApprovalEngine, log: Logger): void {
  app.action<BlockButtonAction>(/^approval\.(approve|deny|cancel)$/, async ({ ack, body, action, respond, client }) => {
    await ack();
    const id = action.value ?? '';
    const user = body.user.id;
    try {
      if (action.action_id === 'approval.deny') {
        const channel = body.container?.channel_id ?? body.channel?.id ?? '';
        await client.views.open({ trigger_id: body.trigger_id, view: denyModal(id, channel) });
        return;
      }
      const text = action.action_id === 'approval.approve' ? await engine.approve(id, user) : await engine.cancel(id, user);
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    } catch (err) {
      log.error({ id, user, err: errorMessage(err) }, 'approval action failed');
      await respond({ response_type: 'ephemeral', replace_original: false, text: `Could not record that: ${errorMessage(err)}` }).catch(() => {});
    }
  });

  app.view(DENY_VIEW, async ({ ack, body, view, client }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { reason: 'Please say why, so the requester knows what to do next.' } });
      return;
    }
    await ack();
    const { id, channel } = JSON.parse(view.private_metadata || '{}') as { id: string; channel: string };
    const text = await engine.deny(id, body.user.id, reason).catch((err: unknown) => `Could not deny ${id}: ${errorMessage(err)}`);
    if (channel) await client.chat.postEphemeral({ channel, user: body.user.id, text }).catch(() => {});
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const report = approvalList(await engine.actionableFor(event.user), event.user);
    const { blocks } = redactDeep(renderReport(report));
    await client.views.publish({ user_id: event.user, view: { type: 'home', blocks } });
  });
}

function denyModal(id: string, channel: string) {
  return {
    type: 'modal' as const,
    callback_id: DENY_VIEW,
    private_metadata: JSON.stringify({ id, channel }),
    title: { type: 'plain_text' as const, text: 'Deny request' },
    submit: { type: 'plain_text' as const, text: 'Deny' },
    close: { type: 'plain_text' as const, text: 'Back' },
    blocks: [
      {
        type: 'input' as const,
        block_id: 'reason',
        label: { type: 'plain_text' as const, text: `Why deny ${id}?` },
        element: { type: 'plain_text_input' as const, action_id: 'reason', multiline: true },
      },
    ],
  };
}
