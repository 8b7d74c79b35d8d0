/** Starts a real opsbot (HTTP transport) against a fake Slack, with a config written to a temp file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBot, type Bot } from '../../src/main.ts';
import { createLogger, type Logger } from '../../src/core/log.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import {
  actionBody,
  blockActionPayload,
  postEvent,
  postSigned,
  commandBody,
  reactionAddedEvent,
  slashCommand,
  viewSubmissionPayload,
  type EventCallbackOptions,
  type PostResult,
  type ViewInputValue,
} from '../harness/slack-client.ts';

export const SECRET = 'test-signing-secret';
export const TOKEN = 'xoxb-test-token';

export interface TestBot {
  bot: Bot;
  fake: FakeSlack;
  /** http://127.0.0.1:PORT */
  url: string;
  stateDbUrl: string;
  command(command: string, text?: string, opts?: { user?: string; channel?: string }): Promise<PostResult>;
  /** Sends a command and waits for the bot's channel message or ephemeral response. */
  run(command: string, text?: string, opts?: { user?: string; channel?: string }): Promise<{ ack: PostResult; reply: FakeSlackCall }>;
  /** Clicks a button on a posted message (signed block_actions); its response_url is `responseId`. */
  click(opts: { user: string; channel: string; ts: string; actionId: string; value: string; responseId?: string }): Promise<PostResult>;
  /**
   * Submits a modal the bot opened with views.open, answering its input blocks by block_id: text
   * for text inputs, the option's value for static_select (sent as `selected_option`), a user id
   * for users_select (`selected_user`), an array for multi-selects. Inputs left out send their
   * initial value, as Slack does.
   */
  submitView(view: Record<string, any>, user: string, values: Record<string, ViewInputValue>): Promise<PostResult>;
  /** Delivers an Events API event (e.g. {type:'reaction_added', …}) to the bot: signed JSON in an event_callback envelope. */
  event(event: Record<string, any>, opts?: EventCallbackOptions & { retryNum?: number }): Promise<PostResult>;
  /**
   * `user` reacts to a stored message: the reaction is recorded on the fake (so history shows it)
   * and reaction_added is delivered, with item_user from the message. Reaction defaults to pushpin.
   */
  react(opts: { user: string; channel: string; ts: string; reaction?: string }): Promise<PostResult>;
  close(): Promise<void>;
}

/** The latest text of the posted message `ts` (after chat.update), once it matches `re`; updates are coalesced, so it polls. */
export async function waitForMessage(fake: FakeSlack, ts: string, re: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    const m = fake.messages().find((x) => x.ts === ts);
    text = m ? messageText({ method: 'message', args: m as never, at: 0, status: 200, result: {} }) : '';
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`message ${ts} never matched ${re}; last text:\n${text}`);
}

/** The button with this action_id in a recorded message's blocks. */
export function findButton(call: FakeSlackCall, actionId: string): { value: string } | undefined {
  for (const b of (call.args.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>) {
    const e = b.elements?.find((x) => x.action_id === actionId);
    if (e) return { value: e.value ?? '' };
  }
  return undefined;
}

/** Plain text of a recorded message: its blocks' texts joined, or its text. */
export function messageText(call: FakeSlackCall): string {
  const blocks = (call.args.blocks ?? []) as Array<{ text?: { text: string }; elements?: Array<{ text?: string | { text: string } }>; fields?: Array<{ text: string }> }>;
  const text = !blocks.length
    ? String(call.args.text ?? '')
    : blocks
        .flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : e.text?.text))])
        .filter(Boolean)
        .join('\n');
  // As the reader sees it: mrkdwn escapes undone.
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** `logger`: the bot's logger (a test that reads what the bot logs); default: silent, or LOG_LEVEL. */
export async function startTestBot(config: Record<string, unknown>, opts: { fake?: FakeSlack; env?: Record<string, string>; logger?: Logger } = {}): Promise<TestBot> {
  const fake = opts.fake ?? (await startFakeSlack({ token: TOKEN }));
  const pg = await sharedPostgres();
  const stateDbUrl = await pg.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-cfg-'));
  const file = join(dir, 'opsbot.yaml');
  // Tests of other features run /health again and expect fresh figures: sharing and the health
  // cache are off unless a test sets `storm` itself (the storm tests do).
  writeFileSync(file, stringify({ storm: { share_window: '0s', health_cache: '0s' }, ...config }));
  const env = {
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: fake.url,
    OPSBOT_CONFIG: file,
    DATABASE_URL: stateDbUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    ...opts.env,
  };
  const bot = await startBot(env, { kind: 'http' }, opts.logger ?? createLogger(process.env.LOG_LEVEL ?? 'silent'));
  const url = `http://127.0.0.1:${bot.port}`;
  let seq = 0;
  const command = (cmd: string, text = '', o: { user?: string; channel?: string } = {}) =>
    slashCommand(url, SECRET, { command: cmd, text, user_id: o.user ?? 'U0ONCALL', channel_id: o.channel ?? 'C0OPS', response_url: fake.responseUrl(`r${++seq}`) });
  return {
    bot,
    fake,
    url,
    stateDbUrl,
    command,
    async run(cmd, text = '', o = {}) {
      const before = fake.calls.length;
      const rid = `r${++seq}`;
      const channel = o.channel ?? 'C0OPS';
      const ack = await slashCommand(url, SECRET, { command: cmd, text, user_id: o.user ?? 'U0ONCALL', channel_id: channel, response_url: fake.responseUrl(rid) });
      // The reply to this command: in its channel, or through its own response_url.
      const reply = await fake.waitFor(
        (c) => fake.calls.indexOf(c) >= before && ((c.method === 'chat.postMessage' && c.args.channel === channel) || (c.method === 'response_url' && c.target === rid)),
        15_000,
      );
      return { ack, reply };
    },
    click(o) {
      const payload = blockActionPayload({ user: o.user, channel: o.channel, messageTs: o.ts, actionId: o.actionId, value: o.value, responseUrl: fake.responseUrl(o.responseId ?? `click${++seq}`) });
      return postSigned(`${url}/slack/events`, SECRET, actionBody(payload));
    },
    submitView(view, user, values) {
      return postSigned(`${url}/slack/events`, SECRET, actionBody(viewSubmissionPayload(view, user, values)));
    },
    event(event, o = {}) {
      return postEvent(url, SECRET, event, o);
    },
    react(o) {
      const reaction = o.reaction ?? 'pushpin';
      const message = fake.addReaction(o.channel, o.ts, o.user, reaction);
      return postEvent(url, SECRET, reactionAddedEvent({ user: o.user, channel: message.channel, ts: o.ts, reaction, itemUser: message.user }));
    },
    async close() {
      await bot.close();
      if (!opts.fake) await fake.stop();
    },
  };
}

export { postSigned, commandBody };
