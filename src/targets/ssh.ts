import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import type { Config } from '../config/schema.ts';
import { UnavailableError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { AbortedError, limit, TimedOutError } from './errors.ts';
import { hostHealth, outputOf, splitHostFacts } from './host-parse.ts';
import { commandLine } from './quote.ts';
import { DEFAULT_MAX_BYTES, OutputCap, templates } from './templates.ts';
import type { HostExecutor, HostHealth, RunOptions, RunResult, TemplateName, Templates } from './types.ts';

export type HostConfig = Config['targets']['hosts'][string];

// OpenSSH allows 10 sessions per connection (MaxSessions); beyond that a channel open is refused.
// Staying below it leaves room for an operator's own multiplexed session.
const CHANNELS_PER_CONNECTION = 8;
// A connection nobody answers on is closed after about this × 3, even when no command runs.
const KEEPALIVE_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What `ssh-keygen -lf key.pub` prints for the raw key blob ssh2 hands to hostVerifier. */
export function sshFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The host presented a key other than the pinned one: nothing is sent, not even the user name. */
export class HostKeyMismatchError extends UnavailableError {
  constructor(readonly host: string, readonly where: string, readonly expected: string, readonly actual: string) {
    super(msg('targets:ssh.host_key_mismatch', { host, where, expected, actual }));
    this.name = 'HostKeyMismatchError';
  }
}

/** ssh2 throws this when the socket is gone; the command was never sent. */
class NotConnected extends Error {
  constructor() {
    super('not connected'); // i18n-exempt: internal marker, caught and retried
  }
}

/**
 * The server refused a new session on a live connection. OpenSSH counts a session until it has
 * processed its close, so right after our own sessions end it can briefly see more than
 * MaxSessions; the refusal passes within milliseconds. Nothing ran, so it is retried.
 */
class ChannelRefused extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** A counting semaphore; release hands the slot straight to the next waiter. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}

  async acquire(): Promise<() => void> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/**
 * A host reached over SSH: one connection, opened on first use, shared by every command and kept
 * alive; after it drops, the next command opens a new one. The host key is pinned.
 */
export class SshHost implements HostExecutor {
  readonly where: string;
  private readonly hostKey: string;
  private readonly gate = new Gate(CHANNELS_PER_CONNECTION);
  private connecting?: Promise<Client>;
  private client?: Client;
  private ssh?: NodeSSH;
  private closed = false;
  /** When the connection last showed signs of life (see dropIfSilent). */
  private lastSeen = 0;
  /** Connections opened so far (tests and the benchmark check reuse with it). */
  connections = 0;

  constructor(readonly name: string, private readonly cfg: HostConfig, private readonly timeoutMs: number) {
    this.where = `${cfg.address}:${cfg.port}`;
    this.hostKey = cfg.hostKey.replace(/=+$/, '');
  }

  async health(): Promise<HostHealth> {
    // One session, not four in parallel: each session costs the host a login shell (see hostFacts).
    const r = await this.run('hostFacts', []);
    return hostHealth(splitHostFacts(outputOf(this.name, 'hostFacts', r)));
  }

  async run<K extends TemplateName>(template: K, args: Parameters<Templates[K]>, opts: RunOptions = {}): Promise<RunResult> {
    // Built (and its values checked) before anything touches the network.
    const argv = (templates[template] as (...a: unknown[]) => string[])(...args);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    // The login shell parses this line; LC_ALL=C keeps the output the parsers expect. The host's
    // own `timeout` kills the command (and, for GNU timeout, its process group) just after we stop
    // waiting: OpenSSH ignores signal requests on root sessions, where privilege separation ends
    // at login, so closing the channel alone would leave e.g. a tail on a FIFO running forever.
    const line = `LC_ALL=C ${commandLine(['timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000)), ...argv])}`;
    const started = Date.now();
    const abort = new AbortController();
    let phase: 'queue' | 'connect' | 'exec' = 'queue';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        if (phase === 'connect') return reject(this.noHandshake(timeoutMs));
        if (phase === 'queue') {
          return reject(new TimedOutError(msg('targets:ssh.queue_timed_out', { template, host: this.name, sessions: CHANNELS_PER_CONNECTION, ...limit(timeoutMs) }), timeoutMs));
        }
        this.dropIfSilent(started);
        reject(new TimedOutError(msg('targets:ssh.timed_out', { template, host: this.name, ...limit(timeoutMs) }), timeoutMs));
      }, timeoutMs);
    });
    // The caller's Stop: the same as our own timeout, but reported as aborted.
    const stopped = new Promise<never>((_, reject) => {
      const onAbort = () => {
        abort.abort();
        reject(new AbortedError());
      };
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    stopped.catch(() => {});
    const work = (async () => {
      const release = await this.gate.acquire();
      try {
        let reconnected = false;
        for (let attempt = 1; ; attempt++) {
          phase = 'connect';
          const client = await this.connection();
          if (abort.signal.aborted) throw new Error('aborted'); // the caller has already had its timeout
          phase = 'exec';
          try {
            return await this.exec(client, line, opts.maxBytes ?? DEFAULT_MAX_BYTES, abort.signal, opts.stdin);
          } catch (err) {
            // A refused session: wait a moment and ask again, within the command's own timeout.
            if (err instanceof ChannelRefused && !abort.signal.aborted) {
              await sleep(Math.min(25 * attempt, 250));
              continue;
            }
            // The socket closed before its 'close' event was handled: nothing ran, so one retry
            // on a new connection is safe.
            if (!(err instanceof NotConnected) || reconnected) throw this.failure(err);
            reconnected = true;
            this.forget(client);
          }
        }
      } finally {
        release();
      }
    })();
    work.catch(() => {}); // settles after the timeout when the command was stopped
    try {
      return await Promise.race([work, timeout, stopped]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    this.ssh?.dispose();
    this.client = undefined;
    this.connecting = undefined;
  }

  /** The open connection, or the one being opened: concurrent callers share one handshake. */
  private connection(): Promise<Client> {
    if (this.closed) return Promise.reject(new UnavailableError(msg('targets:ssh.closed', { host: this.name })));
    this.connecting ??= this.open().catch((err: unknown) => {
      this.connecting = undefined; // the next call tries again
      throw err;
    });
    return this.connecting;
  }

  private async open(): Promise<Client> {
    const privateKey = this.cfg.privateKey ?? (await this.readKeyFile());
    let presented: string | undefined;
    const ssh = new NodeSSH();
    try {
      const connecting = ssh.connect({
        host: this.cfg.address,
        port: this.cfg.port,
        username: this.cfg.user,
        privateKey,
        readyTimeout: this.timeoutMs,
        keepaliveInterval: KEEPALIVE_MS,
        keepaliveCountMax: 3,
        // Runs during key exchange, before authentication: a wrong key learns nothing about us.
        hostVerifier: (key: Buffer) => {
          presented = sshFingerprint(key);
          return presented === this.hostKey;
        },
      });
      // Every command is a few small packets each way; with Nagle's algorithm on (ssh2 leaves it
      // on) each exchange waits for a delayed ACK, ~40 ms a round trip. node-ssh creates the
      // client synchronously, so it is there to be told before the TCP connection opens.
      ssh.connection?.once('connect', () => ssh.connection?.setNoDelay(true));
      await connecting;
    } catch (err) {
      ssh.dispose();
      if (presented !== undefined && presented !== this.hostKey) throw new HostKeyMismatchError(this.name, this.where, this.hostKey, presented);
      throw this.failure(err);
    }
    const client = ssh.connection!;
    client.setNoDelay(true);
    if (this.closed) {
      ssh.dispose();
      throw new UnavailableError(msg('targets:ssh.closed', { host: this.name }));
    }
    this.ssh = ssh;
    this.client = client;
    this.connections++;
    this.lastSeen = Date.now();
    // node-ssh stops listening for 'error' once connected; without a listener a reset connection
    // would crash the bot. 'close' always follows, and that is where the connection is dropped.
    client.on('error', () => undefined);
    const drop = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.connecting = undefined;
    };
    client.once('close', drop);
    client.once('end', drop);
    return client;
  }

  private async readKeyFile(): Promise<string> {
    const file = this.cfg.privateKeyFile!;
    try {
      // Read at every connect, so a rotated key is picked up without a restart.
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new UnavailableError(msg('targets:ssh.key_file', { host: this.name, file, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message }));
    }
  }

  private exec(client: Client, line: string, maxBytes: number, abort: AbortSignal, stdin?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const opened = (err: Error | undefined, channel: ClientChannel) => {
        // ssh2 fails a channel that was never confirmed with "No response from server" when the
        // connection closes under it (the host went away since our last command): nothing ran.
        if (err) {
          if (/No response from server/.test(err.message)) return reject(new NotConnected());
          if (/open failed|administratively prohibited/i.test(err.message)) return reject(new ChannelRefused(err.message));
          return reject(this.failure(err));
        }
        this.lastSeen = Date.now();
        const stdout = new OutputCap(maxBytes);
        const stderr = OutputCap.forStderr();
        let exited = false;
        let stopped = false;
        let code: number | null = null;
        // Stops the command now where OpenSSH allows signals (non-root users: it signals the whole
        // process group); the remote `timeout` is the backstop. Closing the channel makes a
        // command still writing die of SIGPIPE.
        const stop = () => {
          if (stopped) return;
          stopped = true;
          try {
            channel.signal('KILL');
          } catch {
            // the channel is already closing
          }
          channel.close();
        };
        if (abort.aborted) stop();
        else abort.addEventListener('abort', stop, { once: true });
        channel.on('data', (c: Buffer) => {
          this.lastSeen = Date.now();
          if (!stdout.push(c)) stop();
        });
        channel.stderr.on('data', (c: Buffer) => {
          this.lastSeen = Date.now();
          stderr.push(c);
        });
        channel.on('exit', (c: number | null) => {
          exited = true;
          code = typeof c === 'number' ? c : null;
        });
        channel.on('close', () => {
          this.lastSeen = Date.now();
          abort.removeEventListener('abort', stop);
          if (!exited && !stopped) return reject(new UnavailableError(msg('targets:ssh.connection_lost', { where: this.where })));
          resolve({ stdout: stdout.text(), stderr: stderr.text(), code, truncated: stdout.truncated });
        });
        // stdin is left open: ssh2 sends no signal on a channel whose stdin was ended. Only the
        // backup templates read it: a secret on the first line, then its end when we close.
        if (stdin !== undefined) channel.write(stdin);
      };
      try {
        client.exec(line, opened);
      } catch (err) {
        reject((err as Error).message === 'Not connected' ? new NotConnected() : err); // i18n-exempt: ssh2's own message, compared
      }
    });
  }

  /** Stops using a connection; the next command opens a new one. */
  private forget(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connecting = undefined;
    client.destroy();
  }

  /**
   * After a timeout: when nothing at all has come back on this connection since the command was
   * started, not even the channel's confirmation, the peer is gone (a crashed host sends no
   * reset), so the next call reconnects instead of waiting for the keepalive. A command hung on
   * the host (df on a dead NFS mount) was confirmed, and does not close the connection.
   */
  private dropIfSilent(since: number): void {
    if (this.client && this.lastSeen < since) this.forget(this.client);
  }

  private noHandshake(ms: number): UnavailableError {
    return new UnavailableError(msg('targets:ssh.no_handshake', { where: this.where, ...limit(ms) }));
  }

  /** A connection-level failure, in words the user can act on. */
  private failure(err: unknown): UnavailableError {
    const e = err as Error & { level?: string; code?: string };
    if (e instanceof UnavailableError) return e;
    if (e.level === 'client-authentication') {
      return new UnavailableError(msg('targets:ssh.auth_failed', { user: this.cfg.user, where: this.where, reason: e.message }));
    }
    if (/privateKey/.test(e.message)) return new UnavailableError(msg('targets:ssh.bad_key', { host: this.name, reason: e.message }));
    if (e.level === 'client-timeout' || /timed out/i.test(e.message)) return this.noHandshake(this.timeoutMs);
    return new UnavailableError(msg('targets:ssh.unreachable', { reason: e.message || e.code || String(err) }));
  }
}
