import type { AllMiddlewareArgs, App, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { redactDeep } from '../core/redact.ts';
import { renderReport } from './render.ts';

/**
 * The alert cards' buttons and /silences' Expire. Each click is a command run through the
 * dispatcher as the person who clicked (`/diagnose backend`, `/alerts silence 12 --for 1h`,
 * `/silences expire <id>`), so roles, rate limits and the audit apply exactly as when typed.
 */
export function registerAlertHandlers(app: App, dispatcher: Dispatcher, log: Logger): void {
  const run = (command: string, text: string, thread: boolean) => async ({ ack, body, respond, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const user = body.user.id;
    const channel = body.container?.channel_id ?? body.channel?.id ?? '';
    const ts = body.container?.message_ts ?? body.message?.ts;
    await dispatcher.handle({ command, text, user, channel }, async (reply: Reply) => {
      const message = redactDeep(renderReport(reply.report, reply.t));
      if (reply.ephemeral) {
        await respond({ response_type: 'ephemeral', replace_original: false, ...message });
        return;
      }
      // A diagnosis belongs with its alert: in the card's thread, where the channel can follow it.
      await client.chat.postMessage({ channel, ...(thread && ts ? { thread_ts: ts } : {}), ...message }).catch(async (err: unknown) => {
        log.warn({ channel, err: errorMessage(err) }, 'posting a card action reply failed; answering the clicker');
        await respond({ response_type: 'ephemeral', replace_original: false, ...message });
      });
    });
  };

  app.action<BlockButtonAction>('alert.diagnose', async (args) => run('/diagnose', args.action.value ?? '', true)(args));
  app.action<BlockButtonAction>(/^alert\.silence\./, async (args) => run('/alerts', `silence ${args.action.value ?? ''}`, false)(args));
  app.action<BlockButtonAction>('alert.ack', async (args) => run('/alerts', `ack ${args.action.value ?? ''}`, false)(args));
  app.action<BlockButtonAction>('silence.expire', async (args) => run('/silences', `expire ${args.action.value ?? ''}`, false)(args));
  // The Prometheus link opens in the browser; Slack still reports the click, which needs its ack.
  app.action<BlockButtonAction>('alert.link', async ({ ack }) => {
    await ack();
  });
}
