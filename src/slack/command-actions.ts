import type { App, BlockButtonAction } from '@slack/bolt';
import { COMMAND_ACTION } from '../core/command-action.ts';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { redactDeep } from '../core/redact.ts';
import { splitCommandLine } from '../schedule/index.ts';
import { renderReport } from './render.ts';

/**
 * Buttons made by commandButton(): the line they carry runs through the dispatcher as the person
 * who clicked, in the channel of the message, exactly as if they had typed it. A refusal, a plan,
 * an approval card or a job card is what that command would give them.
 */
export function registerCommandActions(app: App, dispatcher: Dispatcher, log: Logger): void {
  app.action<BlockButtonAction>(new RegExp(`^${COMMAND_ACTION.replace('.', '\\.')}(:|$)`), async ({ ack, body, action, respond, client }) => {
    await ack();
    const user = body.user.id;
    const channel = body.channel?.id ?? user;
    const { command, text } = splitCommandLine(action.value ?? '');
    await dispatcher.handle({ command, text, user, channel }, async (reply: Reply) => {
      const message = redactDeep(renderReport(reply.report, reply.t));
      if (reply.ephemeral) await respond({ response_type: 'ephemeral', replace_original: false, ...message });
      else await client.chat.postMessage({ channel, ...message });
    }).catch((err: unknown) => log.error({ err: errorMessage(err), user, command }, 'button command failed'));
  });
}
