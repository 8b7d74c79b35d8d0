import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';

/**
 * What incidents need from Slack, behind a small interface: channels, pins, messages, files.
 * src/slack/incident-slack.ts implements it with the Web API (the console's fake included).
 */
export interface IncidentSlack {
  /** Creates a public channel; `taken` when the name is in use (the caller tries another). */
  createChannel(name: string): Promise<{ id: string; name: string } | { taken: true }>;
  /** Invites users; those already in, the bot itself and unknown ones are skipped, not fatal. */
  invite(channel: string, users: string[]): Promise<void>;
  setTopic(channel: string, topic: string): Promise<void>;
  post(channel: string, report: Report, t: T, opts?: { threadTs?: string }): Promise<string>;
  update(channel: string, ts: string, report: Report, t: T): Promise<void>;
  pin(channel: string, ts: string): Promise<void>;
  permalink(channel: string, ts: string): Promise<string | undefined>;
  /** A message's text and author, to put a pinned (📌) message on the timeline. */
  message(channel: string, ts: string): Promise<{ text: string; user?: string } | undefined>;
  archive(channel: string): Promise<void>;
  /** A direct message from the bot. */
  dm(user: string, report: Report, t: T): Promise<void>;
  upload(channel: string, file: { filename: string; title: string; content: string }, comment?: string): Promise<void>;
}
