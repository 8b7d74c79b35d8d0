import type { WebClient } from '@slack/web-api';
import type { IncidentSlack } from '../incidents/slack.ts';
import type { Logger } from '../core/log.ts';
import { errorMessage } from '../core/errors.ts';
import { fileBytes, redactDeep, redactText } from '../core/redact.ts';
import { escapeMrkdwn, renderReport } from './render.ts';

const code = (err: unknown): string | undefined => (err as { data?: { error?: string } }).data?.error;

/** Incidents' Slack calls through the Web API. Every posted text is redacted, like every reply. */
export function incidentSlack(client: WebClient, log: Logger): IncidentSlack {
  return {
    async createChannel(name) {
      try {
        const res = await client.conversations.create({ name, is_private: false });
        return { id: res.channel!.id!, name: res.channel!.name ?? name };
      } catch (err) {
        if (code(err) === 'name_taken') return { taken: true };
        throw err;
      }
    },
    async invite(channel, users) {
      const unique = [...new Set(users)].filter((u) => /^[UW][A-Z0-9]+$/.test(u));
      if (!unique.length) return;
      try {
        // force: the valid users are invited even when some of the list cannot be.
        await client.conversations.invite({ channel, users: unique.join(','), force: true });
      } catch (err) {
        // Everyone already in, or only the bot itself listed: nothing to do. Anything else is
        // logged, not fatal: the channel exists and people can join it from the announcement.
        if (code(err) !== 'already_in_channel' && code(err) !== 'cant_invite_self') log.warn({ channel, err: errorMessage(err) }, 'inviting to the incident channel failed');
      }
    },
    async setTopic(channel, topic) {
      // Slack renders a topic's mentions: the commander's becomes live, anything typed stays text.
      await client.conversations.setTopic({ channel, topic: escapeMrkdwn(redactText(topic)).slice(0, 250) });
    },
    async post(channel, report, t, opts) {
      const res = await client.chat.postMessage({ channel, ...redactDeep(renderReport(report, t)), ...(opts?.threadTs ? { thread_ts: opts.threadTs } : {}) });
      return res.ts!;
    },
    async update(channel, ts, report, t) {
      await client.chat.update({ channel, ts, ...redactDeep(renderReport(report, t)) });
    },
    async pin(channel, ts) {
      try {
        await client.pins.add({ channel, timestamp: ts });
      } catch (err) {
        if (code(err) !== 'already_pinned') throw err;
      }
    },
    async permalink(channel, ts) {
      try {
        return (await client.chat.getPermalink({ channel, message_ts: ts })).permalink;
      } catch (err) {
        log.warn({ channel, err: errorMessage(err) }, 'no permalink');
        return undefined;
      }
    },
    async message(channel, ts) {
      // A message in a thread is found with replies; one in the channel with history.
      const history = await client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
      let m = history.messages?.find((x) => x.ts === ts);
      if (!m) m = (await client.conversations.replies({ channel, ts, limit: 1 }).catch(() => undefined))?.messages?.find((x) => x.ts === ts);
      return m ? { text: m.text ?? '', user: m.user } : undefined;
    },
    async archive(channel) {
      try {
        await client.conversations.archive({ channel });
      } catch (err) {
        if (code(err) !== 'already_archived') throw err;
      }
    },
    async dm(user, report, t) {
      await client.chat.postMessage({ channel: user, ...redactDeep(renderReport(report, t)) });
    },
    async upload(channel, file, comment) {
      await client.filesUploadV2({
        channel_id: channel, filename: file.filename, title: file.title, file: fileBytes(file.content),
        ...(comment ? { initial_comment: escapeMrkdwn(redactText(comment)) } : {}),
      });
    },
  };
}
