/**
 * Real bot processes (`node --import tsx src/cli.ts start`, Slack over HTTP) for tests that need
 * more than one replica, or a process they can signal: SIGTERM drains, SIGKILL is a crash.
 *
 * Each replica gets its own free PORT and a temp YAML config; DATABASE_URL and SLACK_API_URL
 * are whatever the test passes, so two replicas can share one state database and one fake Slack.
 * A replica is always killed when its test file ends (an `after` hook, and an exit hook for a
 * runner that dies first). Only processes started here are ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { stringify } from 'yaml';
import { freePort, onProcessExit } from '../harness/ports.ts';
import { actionBody, blockActionPayload, postSigned, slashCommand, type CommandFields, type PostResult } from '../harness/slack-client.ts';
import { SECRET, TOKEN } from './bot.ts';
import { scaled, sleep } from './wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Bytes of output kept per replica: enough for a failing test's story, bounded for a chatty one. */
const MAX_LOG = 4 * 1024 * 1024;

export interface ReplicaOptions {
  /** Shows in logs and failure messages ("A", "B"). */
  name: string;
  /** The shared state store (PostgreSQL). */
  databaseUrl: string;
  /** The fake Slack's Web API base (FakeSlack.url). */
  slackApiUrl: string;
  signingSecret?: string;
  botToken?: string;
  /** The config as an object (written to a temp YAML file) or the path of a YAML file. */
  config: Record<string, unknown> | string;
  /** Extra environment, applied last (LOG_LEVEL, OPSBOT_*, …). */
  env?: Record<string, string>;
}

export interface Replica {
  name: string;
  port: number;
  pid: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Resolves once GET /readyz answers 200; rejects if the process exits first or `timeoutMs` passes. */
  ready(timeoutMs?: number): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far (pino JSON lines). */
  logs(): string;
  /** Sends a signal to this replica's process (and only to it). False once it has exited. */
  signal(sig: NodeJS.Signals): boolean;
  /** The exit code; null when a signal ended it (see `exitSignal()`). */
  exited: Promise<number | null>;
  exitSignal(): NodeJS.Signals | null;
  running(): boolean;
  /** A signed slash command to this replica. */
  command(fields: CommandFields): Promise<PostResult>;
  /** A signed button click on a posted message, to this replica. */
  click(opts: { user: string; channel: string; ts: string; actionId: string; value: string; responseUrl?: string }): Promise<PostResult>;
  /** GET on this replica: status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const live = new Set<Replica>();
let hooked = false;

/** Registered once per test file: whatever a test left running is killed when the file ends. */
function hookCleanup(): void {
  if (hooked) return;
  hooked = true;
  after(() => stopAllReplicas());
}

/** Kills every replica still running (the file's `after` does this; tests may call it sooner). */
export async function stopAllReplicas(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop(scaled(5_000))));
}

export async function startReplica(opts: ReplicaOptions): Promise<Replica> {
  hookCleanup();
  const dir = mkdtempSync(join(tmpdir(), `opsbot-replica-${opts.name}-`));
  let configFile: string;
  if (typeof opts.config === 'string') configFile = opts.config;
  else {
    configFile = join(dir, 'opsbot.yaml');
    // As in startTestBot: tests of other features expect fresh figures on every /health.
    writeFileSync(configFile, stringify({ storm: { share_window: '0s', health_cache: '0s' }, ...opts.config }));
  }
  const port = await freePort();
  const secret = opts.signingSecret ?? SECRET;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'info',
    SLACK_SIGNING_SECRET: secret,
    SLACK_BOT_TOKEN: opts.botToken ?? TOKEN,
    SLACK_API_URL: opts.slackApiUrl,
    DATABASE_URL: opts.databaseUrl,
    OPSBOT_CONFIG: configFile,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...opts.env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > MAX_LOG) output = output.slice(-MAX_LOG);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // Synchronous on purpose: it runs from the test runner's 'exit' handler.
  const unhook = onProcessExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      unhook();
      live.delete(replica);
      rmSync(dir, { recursive: true, force: true });
      resolve(code);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;

  const replica: Replica = {
    name: opts.name,
    port,
    pid: child.pid!,
    url,
    exited,
    logs: () => output,
    running,
    exitSignal: () => child.signalCode,
    signal: (sig) => running() && child.kill(sig),
    async ready(timeoutMs = scaled(60_000)) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        if (!running()) throw new Error(`replica ${opts.name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready; its output:\n${output.slice(-8000)}`);
        const res = await fetch(`${url}/readyz`).then(
          async (r) => ({ status: r.status, body: await r.text() }),
          (err: Error) => ({ status: 0, body: err.message }),
        );
        if (res.status === 200) return;
        last = `${res.status} ${res.body.trim()}`;
        await sleep(100);
      }
      throw new Error(`replica ${opts.name} not ready after ${timeoutMs} ms (last /readyz: ${last}); its output:\n${output.slice(-8000)}`);
    },
    command: (fields) => slashCommand(url, secret, fields),
    click: (o) => postSigned(`${url}/slack/events`, secret, actionBody(blockActionPayload({ user: o.user, channel: o.channel, messageTs: o.ts, actionId: o.actionId, value: o.value, responseUrl: o.responseUrl }))),
    async get(path) {
      const res = await fetch(`${url}${path}`);
      return { status: res.status, body: await res.text() };
    },
    async stop(graceMs = scaled(30_000)) {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  live.add(replica);
  return replica;
}
