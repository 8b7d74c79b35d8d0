import type { WebClient } from '@slack/web-api';
import { fileBytes, redactDeep } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import { renderReport } from '../slack/render.ts';

/** Posts a report in a channel as the bot (in the console, the post is printed). */
export type ChannelPost = (channel: string, report: Report, t: T) => Promise<void>;

/**
 * A schedule's posts go straight to chat.postMessage: there is no slash command, so no
 * response_url to fall back on, and a schedule posts far too rarely to need the paced lanes.
 */
export function channelPoster(client: WebClient): ChannelPost {
  return async (channel, report, t) => {
    // Every posted text goes through redaction, whatever produced it.
    const posted = await client.chat.postMessage({ channel, ...redactDeep(renderReport(report, t)) });
    const file = report.attachment;
    if (file) {
      await client.filesUploadV2({
        channel_id: channel, thread_ts: posted.ts!, filename: file.filename, title: file.title,
        file: fileBytes(file.content),
      });
    }
  };
}
