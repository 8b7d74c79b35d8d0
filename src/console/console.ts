import { createInterface } from 'node:readline';
import type { Env } from '../config/load.ts';
import { startBot, type Bot } from '../main.ts';
import { ConsoleTransport } from './transport.ts';
import type { Logger } from '../core/log.ts';
import { LOCALES, normalizeLocale, type T } from '../i18n/index.ts';

/** The console's own commands: syntax (English, like slash commands) and what each does. */
const HELP_LINES: Array<[syntax: string, key: string]> = [
  [':as U123', 'console:help.as'],
  [':in C123 | :in', 'console:help.in'],
  [':lang zh-CN', 'console:help.lang'],
  ['<number>', 'console:help.button'],
  [':help', 'console:help.help'],
  [':quit', 'console:help.quit'],
];

const helpText = (t: T) => [t('console:help.intro'), ...HELP_LINES.map(([syntax, key]) => `  ${syntax.padEnd(14)}${t(key)}`)].join('\n');

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

const stateText = (bot: Bot, env: Env, t: T) =>
  bot.store.kind === 'pglite' ? t('console:state.pglite', { dir: env.OPSBOT_DATA_DIR || './data' }) : t('console:state.postgres');

/** Slack's form of a locale, as users.info reports it. */
const slackLocale = (t: T) => (t.locale === 'zh-CN' ? 'zh-CN' : 'en-US');

/**
 * A local Slack: each line becomes the payload Slack would send, delivered through the same Bolt
 * app, and whatever the app posts is printed. Works interactively and from a pipe.
 */
export async function runConsole(opts: ConsoleOptions): Promise<void> {
  const output = opts.output ?? process.stdout;
  const print = (text: string) => void output.write(text.endsWith('\n') ? text : `${text}\n`);
  let bot: Bot | undefined;
  // The console's own words follow :lang (readers.default applies it), else config `locale`.
  const t = (): T => bot!.readers.default;
  const transport = new ConsoleTransport(print, t);
  bot = await startBot(opts.env, { kind: 'local', receiver: transport.receiver, fetch: transport.fetch }, opts.log);
  transport.userLocale = slackLocale(t());
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
  let lastCreated: string | undefined;
  transport.onChannelCreated = ({ id }) => void (lastCreated = id);
  note(t()('console:greeting', { config: bot.configSource, state: stateText(bot, opts.env, t()) }));
  if (opts.reason) note(opts.reason);
  note(t()(interactive ? 'console:start.interactive' : 'console:start.pipe'));
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
      } else if (line === ':help') print(helpText(t()));
      else if (/^:lang(\s+\S+)?$/.test(line)) {
        const given = line.split(/\s+/)[1];
        const locale = normalizeLocale(given);
        if (given === undefined) note(t()('console:lang.current', { locale: t().locale }));
        else if (!locale) note(t()('console:lang.unknown', { given, options: LOCALES.join(', ') }));
        else {
          // Every reader (callers and channels alike) sees this language until the next :lang.
          bot.readers.override = locale;
          transport.userLocale = slackLocale(t());
          note(t()('console:lang.set', { locale }));
        }
      } else if (/^:as\s+\S+$/.test(line)) user = line.split(/\s+/)[1];
      else if (/^:in(\s+\S+)?$/.test(line)) {
        // ":in" alone: the channel the bot created last (an incident's); a name works as well as an id.
        const given = line.split(/\s+/)[1]?.replace(/^#/, '');
        const target = given === undefined ? lastCreated : (transport.channels.get(given)?.id ?? given);
        if (target) {
          channel = target;
          note(t()('console:in', { channel }));
        } else note(t()('console:in_none'));
      }
      else if (/^\d+$/.test(line)) {
        const b = transport.button(Number(line));
        if (!b) print(t()('console:no_button', { n: line }));
        else {
          if (b.confirm) print(t()('console:confirmed', { text: b.confirm }));
          await transport.deliver(blockAction(b, user, transport.responseUrl(`a${++seq}`)));
        }
      } else if (line.startsWith('/')) {
        commands++;
        const [command, ...rest] = line.split(/\s+/);
        await transport.deliver(slashCommand(command, line.slice(command.length).trim(), user, channel, transport.responseUrl(`c${++seq}`)));
        void rest;
      } else print(t()('console:not_a_command', { line }));
      prompt();
      if (interactive) rl.prompt();
    }
    await bot.dispatcher.idle();
    await bot.approvals.idle();
    if (!interactive && commands === 0) note(t()('console:no_commands'));
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
