/**
 * opsbot as bench/backup.ts drives it: a real `node --import tsx src/cli.ts start` process (Slack
 * over HTTP, as test/helpers/replicas.ts starts one) with a temp YAML config, a state database
 * and the fake Slack; signed `/backup` and `/restore <id>` commands and an approval click; the
 * card read back from the fake Slack until it shows a final state.
 *
 * The fake Slack runs in the benchmark's own process: here it only takes a few dozen card
 * updates per operation, so it cannot colour the figures, and its calls (with the time each
 * arrived) can be read directly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { FakeSlack, FakeSlackCall } from '../../test/harness/fake-slack.ts';
import { freePort } from '../../test/harness/ports.ts';
import { actionBody, blockActionPayload, postSigned, slashCommand } from '../../test/harness/slack-client.ts';

export const SECRET = 'bench-signing-secret';
export const TOKEN = 'xoxb-bench-token';
export const OPER = 'U0OPER';
export const MGR = 'U0MGR';
export const OPS = 'C0OPS';
export const APPROVALS = 'C0APPROVALS';
const ROOT = new URL('../..', import.meta.url).pathname;

export interface BenchBot {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
  /** The last few KB of its output, for an error message. */
  output(): string;
}

export async function startBenchBot(name: string, opts: { config: Record<string, unknown>; databaseUrl: string; fake: FakeSlack }): Promise<BenchBot> {
  const dir = mkdtempSync(join(tmpdir(), `opsbot-bench-backup-${name}-`));
  const configFile = join(dir, 'opsbot.yaml');
  writeFileSync(configFile, stringify(opts.config));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: opts.fake.url,
      DATABASE_URL: opts.databaseUrl,
      OPSBOT_CONFIG: configFile,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const onExit = () => running() && child.kill('SIGKILL');
  process.once('exit', onExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (!running()) throw new Error(`bot ${name} exited before it was ready:\n${out}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot ${name} not ready within 120 s:\n${out}`);
    }
    await sleep(100);
  }
  return {
    name,
    pid: child.pid!,
    url,
    output: () => out,
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Block = { text?: string | { text?: string }; elements?: Array<{ text?: string | { text?: string }; value?: string; action_id?: string }>; fields?: Array<{ text?: string }> };
const str = (t: string | { text?: string } | undefined) => (typeof t === 'string' ? t : t?.text);

/** Plain text of a posted or updated message, as the reader sees it. */
export function cardText(args: Record<string, unknown>): string {
  const blocks = (args.blocks ?? []) as Block[];
  const text = !blocks.length
    ? String(args.text ?? '')
    : blocks.flatMap((b) => [str(b.text), ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => str(e.text))]).filter(Boolean).join('\n');
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function button(args: Record<string, unknown>, actionId: string): string | undefined {
  for (const b of (args.blocks ?? []) as Block[]) {
    const e = b.elements?.find((x) => x.action_id === actionId);
    if (e) return e.value ?? '';
  }
  return undefined;
}

/** Every text a card showed, with when (ms since the epoch, as the fake Slack received it). */
export interface CardTrace {
  ts: string;
  /** Final text. */
  text: string;
  /** When the final state arrived. */
  doneAt: number;
  updates: Array<{ at: number; text: string }>;
}

let seq = 0;
/** A card's final states: done, failed, stopped, interrupted, refused. Progress shows 🔄 or ⏳. */
const FINAL = /✅ Done|Backup \S+ complete|❌ Failed|Stopped by|⚠️ Interrupted|Not started/;
const PROGRESS = /🔄|⏳|👍 Approved/;

async function finalState(fake: FakeSlack, channel: string, ts: string, timeoutMs: number): Promise<CardTrace> {
  const done = await fake.waitFor(
    (c) => c.args.channel === channel && (c.method === 'chat.update' ? c.args.ts === ts : c.method === 'chat.postMessage' && c.result?.ts === ts) && FINAL.test(cardText(c.args)) && !PROGRESS.test(cardText(c.args)),
    timeoutMs,
  );
  const updates = fake.calls
    .filter((c) => c.args.channel === channel && ((c.method === 'chat.update' && c.args.ts === ts) || (c.method === 'chat.postMessage' && c.result?.ts === ts)))
    .map((c) => ({ at: c.at, text: cardText(c.args) }));
  return { ts, text: cardText(done.args), doneAt: done.at, updates };
}

/** The first card posted in `channel` from call number `mark` on. */
const cardAfter = (fake: FakeSlack, mark: number, channel: string, timeoutMs = 60_000): Promise<FakeSlackCall> =>
  fake.waitFor((c) => fake.calls.indexOf(c) >= mark && c.method === 'chat.postMessage' && c.args.channel === channel, timeoutMs);

/** `/backup` as the operator; resolves once its card shows a final state. `t0` is just before the POST. */
export async function botBackup(bot: BenchBot, fake: FakeSlack, timeoutMs: number): Promise<{ t0: number; card: CardTrace }> {
  const mark = fake.calls.length;
  const t0 = Date.now();
  const ack = await slashCommand(bot.url, SECRET, { command: '/backup', text: '', user_id: OPER, channel_id: OPS, response_url: fake.responseUrl(`b${++seq}`) });
  if (ack.status !== 200) throw new Error(`/backup: HTTP ${ack.status} ${ack.body}`);
  const card = await cardAfter(fake, mark, OPS);
  return { t0, card: await finalState(fake, OPS, card.result!.ts as string, timeoutMs) };
}

/**
 * `/restore <id>` as the operator, approved by the manager. `approvedAt` is just before the
 * approval click (when the work starts); `t0` just before the command.
 */
export async function botRestore(bot: BenchBot, fake: FakeSlack, id: string, timeoutMs: number): Promise<{ t0: number; approvedAt: number; card: CardTrace }> {
  const mark = fake.calls.length;
  const t0 = Date.now();
  const ack = await slashCommand(bot.url, SECRET, { command: '/restore', text: id, user_id: OPER, channel_id: OPS, response_url: fake.responseUrl(`r${++seq}`) });
  if (ack.status !== 200) throw new Error(`/restore: HTTP ${ack.status} ${ack.body}`);
  const card = await cardAfter(fake, mark, APPROVALS);
  const rid = button(card.args, 'approval.approve');
  if (!rid) throw new Error(`/restore: no Approve button on the card:\n${cardText(card.args)}`);
  const ts = card.result!.ts as string;
  const approvedAt = Date.now();
  const res = await postSigned(`${bot.url}/slack/events`, SECRET, actionBody(blockActionPayload({
    user: MGR, channel: APPROVALS, messageTs: ts, actionId: 'approval.approve', value: rid, responseUrl: fake.responseUrl(`${rid}-${MGR}`),
  })));
  if (res.status !== 200) throw new Error(`approve: HTTP ${res.status} ${res.body}`);
  return { t0, approvedAt, card: await finalState(fake, APPROVALS, ts, timeoutMs) };
}

/** "350 ms", "45 sec", "1 min 5 sec" → ms (NaN when none). */
export function parseDuration(text: string): number {
  let ms = 0;
  let found = false;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|sec|s|min|hr|h)\b/g)) {
    found = true;
    const v = Number(m[1]);
    ms += m[2] === 'ms' ? v : m[2] === 'sec' || m[2] === 's' ? v * 1000 : m[2] === 'min' ? v * 60_000 : v * 3_600_000;
  }
  return found ? ms : NaN;
}
