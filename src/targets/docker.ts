import { Agent, type IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import { UnavailableError, UserError } from '../core/errors.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import { msg } from '../i18n/index.ts';
import { limit, TimedOutError } from './errors.ts';
import { FrameDemuxer, LineScanner, type LogScan } from './log-scan.ts';
import type { ContainerInfo, ContainerStats, DockerExecutor, LogScanOptions } from './types.ts';

export interface DockerTargetConfig {
  socket: string;
  project?: string;
  /** ms; per API call */
  timeout?: number;
}

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
/** Docker's own default; passed explicitly so we know how long a stop may take. */
const DEFAULT_STOP_TIMEOUT_SEC = 10;
const DEFAULT_TAIL = 200;
/** Least time a state change (restart, stop, start) gets beyond its stop timeout. */
const STATE_CHANGE_MIN_MS = 15_000;
const DEFAULT_MAX_BYTES = 64 * 1024;
const DEFAULT_SCAN_KEEP = 200;
const DEFAULT_SCAN_MAX_BYTES = 256 * 1024;
const DEFAULT_MAX_LINE_BYTES = 8 * 1024;
/** A scan reads the whole requested window; past this it stops and says how far it got. */
const DEFAULT_SCAN_DEADLINE_MS = 60_000;
/** Errors that mean "the engine is not there", as opposed to "the engine said no". */
const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EPIPE', 'ENOTSOCK']);

/**
 * One Docker API call on `socket`: bounded by a timeout (a hung socket must never hang a
 * command), aborted when it fires, and with "engine not reachable" turned into UnavailableError.
 * Shared by every executor that talks to an engine.
 */
export async function dockerCall<T>(socket: string, ms: number, work: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  try {
    return await withTimeout(work(abort.signal), ms);
  } catch (err) {
    if (err instanceof TimeoutError) {
      abort.abort(err);
      throw new TimedOutError(msg('targets:docker.timed_out', { socket, ...limit(ms) }), ms);
    }
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code && UNREACHABLE.has(code)) throw new UnavailableError(msg('targets:docker.unreachable', { socket, code }));
    throw err;
  }
}
/** Docker's own rule for names; anything else would be spliced into the API path. */
const CONTAINER_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Verb = 'restart' | 'stop' | 'start';
const UNFINISHED: Record<Verb, string> = {
  restart: 'targets:docker.unfinished.restart',
  stop: 'targets:docker.unfinished.stop',
  start: 'targets:docker.unfinished.start',
};
const NO_SUCH_CONTAINER: Record<Verb, string> = {
  restart: 'targets:docker.no_such_container.restart',
  stop: 'targets:docker.no_such_container.stop',
  start: 'targets:docker.no_such_container.start',
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Docker reports "never" as the zero time 0001-01-01T00:00:00Z. */
export function dockerTime(text: string | undefined): Date | null {
  if (!text || text.startsWith('0001-01-01')) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's stats answer, as far as CPU and memory go (API 1.41+; cgroup v1 and v2). */
interface RawStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/**
 * docker stats' own arithmetic (cli/command/container/stats_helpers.go): CPU as the container's
 * share of the host's CPU time between the two samples, times the CPUs; memory without the page
 * cache, which the kernel gives back under pressure (inactive_file on cgroup v2, cache on v1).
 */
export function toContainerStats(raw: RawStats): ContainerStats | null {
  const mem = raw.memory_stats;
  if (!mem || mem.usage === undefined) return null; // not running: the engine sends empty stats
  const cpus = raw.cpu_stats?.online_cpus || raw.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
  const cpuDelta = (raw.cpu_stats?.cpu_usage?.total_usage ?? 0) - (raw.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (raw.cpu_stats?.system_cpu_usage ?? 0) - (raw.precpu_stats?.system_cpu_usage ?? 0);
  const sampled = !!raw.precpu_stats?.system_cpu_usage && sysDelta > 0;
  const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? mem.stats?.cache ?? 0;
  return {
    cpuPercent: sampled ? Math.max(0, (cpuDelta / sysDelta) * cpus * 100) : null,
    onlineCpus: cpus,
    memoryBytes: Math.max(0, mem.usage - (cache < mem.usage ? cache : 0)),
    memoryLimitBytes: mem.limit ?? 0,
  };
}

export function toContainerInfo(raw: Docker.ContainerInspectInfo): ContainerInfo {
  const labels = raw.Config?.Labels ?? {};
  const state = raw.State.Status;
  const health = raw.State.Health?.Status;
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    project: labels[PROJECT_LABEL],
    service: labels[SERVICE_LABEL],
    image: raw.Config?.Image || raw.Image,
    state,
    health: health && health !== 'none' ? health : undefined,
    restartCount: raw.RestartCount,
    startedAt: dockerTime(raw.State.StartedAt),
    finishedAt: dockerTime(raw.State.FinishedAt),
    exitCode: ['exited', 'dead', 'restarting'].includes(state) ? raw.State.ExitCode : null,
    command: [raw.Path, ...(raw.Args ?? [])].filter((s) => s !== ''),
    logConfig: raw.HostConfig?.LogConfig?.Type ? { type: raw.HostConfig.LogConfig.Type, config: { ...(raw.HostConfig.LogConfig.Config ?? {}) } } : undefined,
  };
}

/** One Docker Engine, over its unix socket, optionally narrowed to one compose project. */
export class DockerTarget implements DockerExecutor {
  readonly where: string;
  private readonly socket: string;
  private readonly project: string | undefined;
  private readonly timeoutMs: number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly docker: Docker;

  constructor(readonly name: string, config: DockerTargetConfig, defaultTimeoutMs: number) {
    this.socket = config.socket;
    this.project = config.project;
    this.timeoutMs = config.timeout ?? defaultTimeoutMs;
    this.where = `unix://${this.socket}${this.project ? `, project ${this.project}` : ''}`;
    // Our own agent, so close() can drop the kept-alive sockets; the typings omit `agent`.
    const options: Docker.DockerOptions & { agent: Agent } = { socketPath: this.socket, agent: this.agent };
    this.docker = new Docker(options);
  }

  /**
   * Every API call goes through here: bounded by a timeout (a hung socket must never hang a
   * command), aborted when it fires, and with "engine not reachable" turned into UnavailableError.
   */
  private call<T>(work: (abortSignal: AbortSignal) => Promise<T>, ms = this.timeoutMs): Promise<T> {
    return dockerCall(this.socket, ms, work);
  }

  private container(ref: string): Docker.Container {
    if (!CONTAINER_REF.test(ref)) throw new UserError(msg('targets:docker.invalid_name', { ref }));
    return this.docker.getContainer(ref);
  }

  /** Runs a state change; a missing container is the user's to fix, "already so" is success. */
  private async change(ref: string, verb: Verb, work: (c: Docker.Container, abortSignal: AbortSignal) => Promise<unknown>, ms: number): Promise<void> {
    const c = this.container(ref);
    try {
      // A busy engine can take seconds to start a container; that is slow, not unreachable.
      await this.call((abortSignal) => work(c, abortSignal), ms + Math.max(this.timeoutMs, STATE_CHANGE_MIN_MS));
    } catch (err) {
      if (err instanceof TimedOutError) {
        const seconds = Math.round((ms + Math.max(this.timeoutMs, STATE_CHANGE_MIN_MS)) / 1000);
        throw new UnavailableError(msg(UNFINISHED[verb], { socket: this.socket, ref, seconds }));
      }
      const status = statusCode(err);
      if (status === 304) return;
      if (status === 404) throw new UserError(msg(NO_SUCH_CONTAINER[verb], { ref, docker: this.name }));
      throw err;
    }
  }

  async list(): Promise<ContainerInfo[]> {
    const filters = this.project ? { label: [`${PROJECT_LABEL}=${this.project}`] } : undefined;
    const found = await this.call((abortSignal) => this.docker.listContainers({ all: true, filters, abortSignal }));
    // The list lacks restart counts and times; a container removed meanwhile inspects as null.
    const infos = await Promise.all(found.map((c) => this.inspect(c.Id)));
    return infos.filter((i): i is ContainerInfo => i !== null).sort((a, b) => a.name.localeCompare(b.name));
  }

  async inspect(nameOrId: string): Promise<ContainerInfo | null> {
    if (!CONTAINER_REF.test(nameOrId)) return null;
    try {
      return toContainerInfo(await this.call((abortSignal) => this.docker.getContainer(nameOrId).inspect({ abortSignal })));
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  }

  async restart(id: string, opts: { stopTimeoutSec?: number } = {}): Promise<void> {
    const t = opts.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SEC;
    // The engine answers only once the container has stopped (up to t) and started again.
    await this.change(id, 'restart', (c, abortSignal) => c.restart({ t, abortSignal }), t * 1000);
  }

  async stop(id: string, opts: { stopTimeoutSec?: number } = {}): Promise<void> {
    const t = opts.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SEC;
    await this.change(id, 'stop', (c, abortSignal) => c.stop({ t, abortSignal }), t * 1000);
  }

  async start(id: string): Promise<void> {
    await this.change(id, 'start', (c, abortSignal) => c.start({ abortSignal }), 0);
  }

  async logs(id: string, opts: { tail?: number; sinceSec?: number; maxBytes?: number } = {}): Promise<string> {
    const tail = opts.tail ?? DEFAULT_TAIL;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const scan = await this.scanLogs(id, { tail, sinceSec: opts.sinceSec, keep: tail, maxBytes, maxLineBytes: maxBytes });
    const text = scan.lines.length ? `${scan.lines.join('\n')}\n` : '';
    // i18n-exempt: a marker inside the log text itself, which is not translated
    return scan.dropped || scan.longLines ? `… [output cut at ${maxBytes} bytes]\n${text}` : text;
  }

  async scanLogs(id: string, opts: LogScanOptions = {}): Promise<LogScan> {
    const c = this.container(id);
    const since = opts.sinceSec === undefined ? 0 : Math.floor(Date.now() / 1000 - opts.sinceSec);
    let res: IncomingMessage;
    try {
      // dockerode buffers the whole body unless it follows; dialling the same endpoint as a stream
      // (follow=false: it ends at the end of the log) keeps only one chunk in memory at a time.
      res = await this.call((abortSignal) => new Promise<IncomingMessage>((resolve, reject) => {
        c.modem.dial({
          path: `/containers/${id}/logs?`,
          method: 'GET',
          isStream: true,
          abortSignal,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' }, // i18n-exempt: docker-modem's own reasons, matched by status
          options: { stdout: true, stderr: true, follow: false, tail: opts.tail ?? 'all', since, timestamps: false },
        }, (err: unknown, stream: IncomingMessage) => (err ? reject(err) : resolve(stream)));
      }));
    } catch (err) {
      if (statusCode(err) === 404) throw new UserError(msg('targets:docker.no_logs', { ref: id, docker: this.name }));
      throw err;
    }
    const scanner = new LineScanner({
      grep: opts.grep,
      keep: opts.keep ?? DEFAULT_SCAN_KEEP,
      maxBytes: opts.maxBytes ?? DEFAULT_SCAN_MAX_BYTES,
      maxLineBytes: Math.min(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, opts.maxBytes ?? DEFAULT_SCAN_MAX_BYTES),
    });
    const demux = new FrameDemuxer(await this.isRawLog(id, res), (stream, payload) => scanner.push(stream, payload));
    let stopped = false;
    const timer = setTimeout(() => {
      stopped = true;
      res.destroy();
    }, opts.deadlineMs ?? DEFAULT_SCAN_DEADLINE_MS);
    try {
      for await (const chunk of res) demux.push(chunk as Buffer);
    } catch (err) {
      if (!stopped) {
        res.destroy();
        throw new UnavailableError(msg('targets:docker.read_failed', { ref: id, docker: this.name, reason: (err as Error).message }));
      }
    } finally {
      clearTimeout(timer);
    }
    scanner.end();
    return scanner.result(stopped);
  }

  /** A TTY container's log has no frames; the engine says which in the content type (API 1.42+). */
  private async isRawLog(id: string, res: IncomingMessage): Promise<boolean> {
    const type = String(res.headers['content-type'] ?? '');
    if (type.includes('multiplexed-stream')) return false;
    if (type.includes('raw-stream')) return true;
    const raw = await this.call((abortSignal) => this.docker.getContainer(id).inspect({ abortSignal }));
    return raw.Config?.Tty === true;
  }

  async waitReady(id: string, opts: { deadlineMs: number; pollMs?: number; startedAfter?: Date }): Promise<{ ready: boolean; info: ContainerInfo | null; waitedMs: number }> {
    const t0 = Date.now();
    const deadline = t0 + opts.deadlineMs;
    const after = opts.startedAfter?.getTime();
    for (;;) {
      const info = await this.inspect(id);
      const ready = !!info && info.state === 'running' && (info.health === undefined || info.health === 'healthy')
        && (after === undefined || (info.startedAt !== null && info.startedAt.getTime() > after));
      const now = Date.now();
      if (ready || now >= deadline) return { ready, info, waitedMs: now - t0 };
      await sleep(Math.min(opts.pollMs ?? 500, deadline - now));
    }
  }

  async stats(id: string): Promise<ContainerStats | null> {
    if (!CONTAINER_REF.test(id)) return null;
    try {
      // stream=false waits for a second sample (about 1 s) so that the CPU share has a base: the
      // call gets that second on top of the target's timeout.
      const raw = await this.call((abortSignal) => this.docker.getContainer(id).stats({ stream: false, abortSignal } as never) as unknown as Promise<unknown>, this.timeoutMs + 2000);
      return toContainerStats(raw as RawStats);
    } catch (err) {
      if (statusCode(err) === 404 || statusCode(err) === 409) return null;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
