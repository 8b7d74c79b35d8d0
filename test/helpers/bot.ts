/** Starts a real opsbot (HTTP transport) against a fake Slack, with a config written to a temp file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBot, type Bot } from '../../src/main.ts';
import { createLogger } from '../../src/core/log.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { postSigned, commandBody, slashCommand, type PostResult } from '../harness/slack-client.ts';

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
  close(): Promise<void>;
}

/** Plain text of a recorded message: its blocks' texts joined, or its text. */
export function messageText(call: FakeSlackCall): string {
  const blocks = (call.args.blocks ?? []) as Array<{ text?: { text: string }; elements?: Array<{ text?: string }>; fields?: Array<{ text: string }> }>;
  if (!blocks.length) return String(call.args.text ?? '');
  return blocks
    .flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)])
    .filter(Boolean)
    .join('\n');
}

export async function startTestBot(config: Record<string, unknown>, opts: { fake?: FakeSlack; env?: Record<string, string> } = {}): Promise<TestBot> {
  const fake = opts.fake ?? (await startFakeSlack({ token: TOKEN }));
  const pg = await sharedPostgres();
  const stateDbUrl = await pg.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-cfg-'));
  const file = join(dir, 'opsbot.yaml');
  writeFileSync(file, stringify(config));
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
  const bot = await startBot(env, { kind: 'http' }, createLogger(process.env.LOG_LEVEL ?? 'silent'));
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
      const ack = await command(cmd, text, o);
      const reply = await fake.waitFor((c) => fake.calls.indexOf(c) >= before && (c.method === 'chat.postMessage' || c.method === 'response_url'), 15_000);
      return { ack, reply };
    },
    async close() {
      await bot.close();
      if (!opts.fake) await fake.stop();
    },
  };
}

export { postSigned, commandBody };
