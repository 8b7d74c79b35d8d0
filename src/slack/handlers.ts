import type { App, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { fileBytes, redactDeep } from '../core/redact.ts';
import type { ChannelReplies } from './channel-replies.ts';
import { renderForm, renderReport } from './render.ts';

// The bot may not be a member of the channel (private channels, DMs): then the response_url,
// which works anywhere the command was typed, carries the reply instead.
const FALLBACK_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/**
 * In-channel replies through ChannelReplies: shared by identical requests, paced per channel, and
 * accepted at once, so the work queue never waits on Slack. Ephemeral replies go straight back.
 */
function pacedSender(replies: ChannelReplies, respond: RespondFn, channel: string, user: string) {
  return async (reply: Reply): Promise<void> => {
    if (reply.ephemeral) {
      await respond({ response_type: 'ephemeral', replace_original: false, ...redactDeep(renderReport(reply.report, reply.t)) });
      return;
    }
    replies.deliver(channel, reply.shareKey, user, reply.report, respond as (m: Record<string, unknown>) => Promise<unknown>, reply.t);
  };
}

/** One post per reply, at once (the console, which has no Slack limits to respect). */
function sender(client: WebClient, respond: RespondFn, channel: string, log: Logger) {
  return async (reply: Reply): Promise<void> => {
    // Every posted text goes through redaction, whatever produced it.
    const message = redactDeep(renderReport(reply.report, reply.t));
    if (reply.ephemeral) {
      await respond({ response_type: 'ephemeral', replace_original: false, ...message });
      return;
    }
    try {
      const posted = await client.chat.postMessage({ channel, ...message });
      const file = reply.report.attachment;
      if (file) {
        // Beside the excerpt, in the message's thread: the full output, uploaded as a file.
        await client.filesUploadV2({
          channel_id: channel, thread_ts: posted.ts!, filename: file.filename, title: file.title,
          file: fileBytes(file.content),
        });
      }
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (!code || !FALLBACK_ERRORS.has(code)) throw err;
      log.info({ channel, code }, 'posting through response_url');
      await respond({ response_type: 'in_channel', ...message });
    }
  };
}

/** Wires every command to the dispatcher. Bolt verifies the request; we ack at once, then work. */
export function registerHandlers(app: App, dispatcher: Dispatcher, log: Logger, replies?: ChannelReplies): void {
  // One listener for every slash command: the dispatcher knows the commands, and a command the
  // manifest has but this version lacks still gets a helpful answer instead of a Slack timeout.
  app.command(/^\/.+/, async ({ command, ack, respond, client }) => {
    await ack();
    const deliver = replies ? pacedSender(replies, respond, command.channel_id, command.user_id) : sender(client, respond, command.channel_id, log);
    await dispatcher.handle(
      { command: command.command, text: command.text ?? '', user: command.user_id, channel: command.channel_id, triggerId: command.trigger_id },
      async (reply) => {
        // A form is opened for the person who typed the command (the trigger lasts 3 s).
        if (reply.report.form && command.trigger_id) await client.views.open({ trigger_id: command.trigger_id, view: renderForm(reply.report.form) });
        else await deliver(reply);
      },
    );
  });
  app.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'unhandled Slack listener error');
  });
}
