import { createInterface } from 'node:readline';
import type { Env } from '../config/load.ts';
import { startBot, type Bot } from '../main.ts';
import { ConsoleTransport } from './transport.ts';
import type { Logger } from '../core/log.ts';

const HELP = `Type a slash command, e.g. /health or /ops help.
  :as U123      act as another Slack user
  :in C123      type in another channel
  <number>      click the button with that number
  :help         this text
  :quit         leave (end of input does the same)`;

export interface ConsoleOptions {
  env: Env;
  user?: string;
  channel?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  log?: Logger;
  /** Why the console runs rather than Slack, said at start (e.g. no Slack variables are set). */
  reason?: string;
  /** Where start-up and exit notes go when input is not a terminal, so stdout stays the commands' output. */
  notes?: NodeJS.WritableStream;
}

const stateText = (bot: Bot, env: Env) =>
  bot.store.kind === 'pglite' ? `embedded PGlite in ${env.OPSBOT_DATA_DIR || './data'}` : 'PostgreSQL (DATABASE_URL)';

/**
 * A local Slack: each line becomes the payload Slack would send, delivered through the same Bolt
 * app, and whatever the app posts is printed. Works interactively and from a pipe.
 */
export async function runConsole(opts: ConsoleOptions): Promise<void> {
  const output = opts.output ?? process.stdout;
  const print = (text: string) => void output.write(text.endsWith('\n') ? text : `${text}\n`);
  const transport = new ConsoleTransport(print);
  const bot: Bot = await startBot(opts.env, { kind: 'local', receiver: transport.receiver, fetch: transport.fetch }, opts.log);
  let user = opts.user ?? opts.env.OPSBOT_CONSOLE_USER ?? 'U0CONSOLE';
  let channel = opts.channel ?? 'C0CONSOLE';
  const input = opts.input ?? process.stdin;
  const interactive = Boolean((input as { isTTY?: boolean }).isTTY);
  const rl = createInterface({ input, output: interactive ? output : undefined, terminal: interactive });
  const prompt = () => interactive && rl.setPrompt(`opsbot ${user}@${channel}> `);
  let seq = 0;

  let commands = 0;
  // Said on a terminal as the greeting; from a pipe on stderr, so a script's stdout holds only replies.
  const notes = opts.notes ?? process.stderr;
  const note = (text: string) => (interactive ? print(text) : void notes.write(`${text}\n`));
  note(`opsbot console (config: ${bot.configSource}, state: ${stateText(bot, opts.env)})`);
  if (opts.reason) note(opts.reason);
  note(interactive
    ? 'Type a slash command, e.g. /health; :help for help.'
    : 'Reading one slash command per line from standard input, e.g. printf \'/health\\n\' | npm start');
  prompt();
  if (interactive) rl.prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === ':quit' || line === ':q') break;
      if (transport.pendingModal) {
        const { view } = transport.pendingModal;
        transport.pendingModal = undefined;
        await transport.deliver(viewSubmission(view, user, line));
      } else if (!line || line.startsWith('#')) {
        // skip
      } else if (line === ':help') print(HELP);
      else if (/^:as\s+\S+$/.test(line)) user = line.split(/\s+/)[1];
      else if (/^:in\s+\S+$/.test(line)) channel = line.split(/\s+/)[1];
      else if (/^\d+$/.test(line)) {
        const b = transport.button(Number(line));
        if (!b) print(`No button [${line}].`);
        else {
          if (b.confirm) print(`(confirmed: ${b.confirm})`);
          await transport.deliver(blockAction(b, user, transport.responseUrl(`a${++seq}`)));
        }
      } else if (line.startsWith('/')) {
        commands++;
        const [command, ...rest] = line.split(/\s+/);
        await transport.deliver(slashCommand(command, line.slice(command.length).trim(), user, channel, transport.responseUrl(`c${++seq}`)));
        void rest;
      } else print(`Not a command: "${line}". Commands start with "/"; :help for help.`);
      prompt();
      if (interactive) rl.prompt();
    }
    await bot.dispatcher.idle();
    await bot.approvals.idle();
    if (!interactive && commands === 0) note('opsbot console: end of input, no slash commands were read.');
  } finally {
    rl.close();
    await bot.close();
  }
}

function slashCommand(command: string, text: string, user: string, channel: string, responseUrl: string): Record<string, unknown> {
  return {
    token: 'console', team_id: 'T0CONSOLE', team_domain: 'console', channel_id: channel, channel_name: 'console',
    user_id: user, user_name: user, command, text, api_app_id: 'A0CONSOLE', is_enterprise_install: 'false',
    response_url: responseUrl, trigger_id: `console.${Date.now()}`,
  };
}

/** Submits a modal with `answer` in its first input, as Slack's view_submission payload does. */
function viewSubmission(view: Record<string, any>, user: string, answer: string): Record<string, unknown> {
  const input = (view.blocks ?? []).find((b: { type: string }) => b.type === 'input');
  const values = input ? { [input.block_id]: { [input.element.action_id]: { type: input.element.type, value: answer } } } : {};
  return {
    type: 'view_submission',
    team: { id: 'T0CONSOLE', domain: 'console' },
    user: { id: user, username: user, team_id: 'T0CONSOLE' },
    api_app_id: 'A0CONSOLE', token: 'console', trigger_id: `console.${Date.now()}`,
    view: { ...view, id: 'V0CONSOLE', state: { values }, private_metadata: view.private_metadata ?? '' },
  };
}

function blockAction(b: { actionId: string; blockId?: string; value?: string; channel: string; messageTs: string }, user: string, responseUrl: string): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: user, username: user, team_id: 'T0CONSOLE' },
    api_app_id: 'A0CONSOLE', token: 'console', team: { id: 'T0CONSOLE', domain: 'console' },
    container: { type: 'message', message_ts: b.messageTs, channel_id: b.channel, is_ephemeral: false },
    channel: { id: b.channel, name: 'console' },
    message: { ts: b.messageTs, type: 'message' },
    trigger_id: `console.${Date.now()}`, response_url: responseUrl,
    actions: [{ type: 'button', action_id: b.actionId, block_id: b.blockId ?? 'b', value: b.value, action_ts: String(Date.now() / 1000) }],
  };
}
