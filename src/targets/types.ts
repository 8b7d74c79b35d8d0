/** Small interfaces the commands see; the implementations hide pg, ioredis and friends. */
import type { LogScan } from './log-scan.ts';
import type { AlertmanagerExecutor } from './alertmanager.ts';
import type { PrometheusExecutor } from './prometheus.ts';
import type { RunOptions, RunResult, TemplateName, Templates } from './templates.ts';

export type { RunOptions, RunResult, TemplateName, Templates } from './templates.ts';
export type { LogScan } from './log-scan.ts';
export type { AlertmanagerExecutor, AmAlert, AmAlertGroup, AmMatcher, AmSilence, NewSilence } from './alertmanager.ts';
export type { InstantResult, InstantSample, PrometheusExecutor, RangeSeries } from './prometheus.ts';

export interface PostgresHealth {
  latencyMs: number;
  version: string;
  database: string;
  connections: number;
  maxConnections: number;
  /** Age of the oldest open transaction, in ms; null when none is open. */
  longestTransactionMs: number | null;
  longestTransactionPid: number | null;
  databaseSizeBytes: number;
}

/** One connection of its own (see PostgresExecutor.session). */
export interface PgSession {
  /** Its backend's process id: what pg_stat_progress_* and pg_cancel_backend know it by. */
  readonly pid: number;
  /**
   * Runs one statement; values are always parameters. `single` sends it through the extended
   * protocol, where the server itself refuses a text that holds more than one statement.
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], opts?: { single?: boolean }): Promise<R[]>;
}

export interface SessionOptions {
  /** The server stops any statement running longer (ms); 0: no limit. Default: the target's timeout. */
  statementTimeoutMs?: number;
  /** How long a statement may wait for a lock (ms); 0: no limit (the server's default). */
  lockTimeoutMs?: number;
  /** Aborting it cancels the statement in flight (pg_cancel_backend of this session's backend). */
  signal?: AbortSignal;
}

export interface PostgresExecutor {
  readonly name: string;
  /** host:port/db, never with credentials. */
  readonly where: string;
  health(): Promise<PostgresHealth>;
  /** A short read (catalogs, statistics views) on the target's pool, bounded by its timeout. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /**
   * A connection of its own for `fn`, closed after: for a transaction, or for a long statement
   * (VACUUM, CREATE INDEX CONCURRENTLY) whose backend must be known to follow and to cancel it.
   */
  session<T>(fn: (s: PgSession) => Promise<T>, opts?: SessionOptions): Promise<T>;
  close(): Promise<void>;
}

export interface RedisHealth {
  latencyMs: number;
  version: string;
  usedMemoryBytes: number;
  usedMemoryHuman: string;
  /** 0 means no limit. */
  maxMemoryBytes: number;
  maxMemoryHuman: string;
  evictedKeys: number;
  connectedClients: number;
  dbsize: number;
  role: string;
}

/** What /cache info reads: INFO, and the settings CONFIG GET gives when the server allows it. */
export interface RedisInspection {
  /** INFO's fields, every section. */
  info: Record<string, string>;
  /** CONFIG GET values by name; null when CONFIG is renamed away or denied by an ACL. */
  config: Record<string, string> | null;
  /** The server's reason when config is null. */
  configError?: string;
}

export interface RedisKeyInfo {
  /** TYPE: string, list, hash, …; "none" once the key is gone. */
  type: string;
  /** PTTL: milliseconds left, -1 for no TTL, -2 once the key is gone. */
  ttlMs: number;
  /** MEMORY USAGE in bytes; null when the key is gone or MEMORY is not allowed. */
  bytes: number | null;
}

export interface RedisScanPage {
  /** "0" once the iteration is complete. */
  cursor: string;
  /** Keys as bytes: a key need not be UTF-8, and deleting a re-encoded one would miss it. */
  keys: Buffer[];
}

/**
 * One database of a Redis target on a connection of its own, for work that runs long (scans,
 * deletes) without holding up the target's shared connection. Connection failures throw
 * UnavailableError; a command the server refuses throws its ReplyError.
 */
export interface RedisSession {
  readonly db: number;
  scan(cursor: string, count: number, match?: string): Promise<RedisScanPage>;
  /**
   * UNLINKs `keys` (pipelined, a few dozen per command so that no command is long) and, in the
   * same round trip, fetches the next page when `next` is given. `unlinked` counts only keys that
   * existed: one expired or deleted meanwhile is not counted.
   */
  unlink(keys: Buffer[], next?: { cursor: string; count: number; match?: string }): Promise<{ unlinked: number; page?: RedisScanPage }>;
  /** TYPE, PTTL and MEMORY USAGE of each key, pipelined. */
  describe(keys: Buffer[]): Promise<RedisKeyInfo[]>;
  dbsize(): Promise<number>;
  /** TYPE of one key and, for a list, its length (LLEN); 0 for any other type. */
  listLength(key: string): Promise<{ type: string; length: number }>;
  /** FLUSHDB ASYNC: the keys vanish at once, their memory is freed in the background. */
  flushAsync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What /security check reads of a Redis server: whether a password is required and how it is
 * exposed. Never a password or its hash: only whether one is set.
 */
export interface RedisSecurity {
  /** Whether requirepass is set; null when CONFIG GET was refused (configError says why). */
  requirepass: boolean | null;
  /** CONFIG GET bind and protected-mode; null when refused. */
  bind: string | null;
  protectedMode: string | null;
  configError?: string;
  /** ACL LIST, reduced to each user's name, whether it is enabled and whether it needs no password; null when refused or before Redis 6. */
  aclUsers: Array<{ name: string; on: boolean; nopass: boolean }> | null;
  aclError?: string;
  /** Whether opsbot's own URL carries a password (then the server asked for one). */
  authenticated: boolean;
}

export interface RedisExecutor {
  readonly name: string;
  readonly where: string;
  /** The database the target's URL names (0 without one). */
  readonly db: number;
  health(): Promise<RedisHealth>;
  inspect(): Promise<RedisInspection>;
  /** Password and exposure settings (see RedisSecurity); a refused command is a field, not an exception. */
  security(): Promise<RedisSecurity>;
  /** Opens a session on database `db`; a database that does not exist is a UserError. */
  session(db: number): Promise<RedisSession>;
  close(): Promise<void>;
}

export interface DiskUsage {
  filesystem: string;
  mount: string;
  size: string;
  used: string;
  avail: string;
  usePercent: number;
  /**
   * The figures in bytes, when df gave blocks: capacity planning fits a finer percent than df's
   * whole one, and sets a database's growth against the space left.
   */
  bytes?: { used: number; avail: number };
}

export interface MemoryUsage {
  /** From /proc/meminfo, in df -h's units (powers of 1024, rounded up); used = total - available. */
  total: string;
  used: string;
  available: string;
  /** (MemTotal - MemAvailable) / MemTotal, from /proc/meminfo. */
  usedPercent: number;
}

export interface HostHealth {
  disks: DiskUsage[];
  memory: MemoryUsage;
  load: { one: number; five: number; fifteen: number; cores: number };
}

/**
 * A machine: `local` (where opsbot runs) or an SSH host. Commands can only name a template from
 * templates.ts and give its values; there is no way to pass a command line.
 */
export interface HostExecutor {
  readonly name: string;
  /** address:port for SSH hosts, the host name for local; never with credentials. */
  readonly where: string;
  /** Disk per mount (df -P), memory (/proc/meminfo) and load against cores. */
  health(): Promise<HostHealth>;
  /**
   * Runs one template. A non-zero exit is a result, not an exception (grep -c exits 1 on no
   * match). Throws UnavailableError when the host cannot be reached ("unreachable: …"), its key
   * does not match the pinned one, or the command passes its timeout (it is then killed).
   * stdout past maxBytes is cut, marked, and the command stopped.
   */
  run<K extends TemplateName>(template: K, args: Parameters<Templates[K]>, opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

export interface Targets {
  postgres: Map<string, PostgresExecutor>;
  redis: Map<string, RedisExecutor>;
  hosts: Map<string, HostExecutor>;
  docker: Map<string, DockerExecutor>;
  /** Alertmanager's API (config alerts.alertmanager); absent when not configured. */
  alertmanager?: AlertmanagerExecutor;
  /** Prometheus's query API (config alerts.prometheus); absent when not configured. */
  prometheus?: PrometheusExecutor;
  close(): Promise<void>;
}

export interface ContainerInfo {
  id: string;
  /** Without the leading slash, e.g. mitong-backend-1. */
  name: string;
  project?: string;
  service?: string;
  image: string;
  /** created | running | paused | restarting | removing | exited | dead */
  state: string;
  /** healthy | unhealthy | starting, or undefined without a healthcheck. */
  health?: string;
  restartCount: number;
  /** null when never started (Docker's zero time). */
  startedAt: Date | null;
  /** null when it has never stopped; set after any stop, including a manual restart. */
  finishedAt: Date | null;
  /** The last exit code while exited, dead or restarting; null otherwise (0 would mislead). */
  exitCode: number | null;
  /** The container's configured command (Path + Args), for diagnostics. */
  command: string[];
  /** Its log driver and options (HostConfig.LogConfig): how the engine rotates its log. */
  logConfig?: { type: string; config: Record<string, string> };
}

/** One container's CPU and memory, as `docker stats --no-stream` computes them. */
export interface ContainerStats {
  /** Share of one CPU over the engine's sampling interval (200 = two CPUs busy); null without a previous sample. */
  cpuPercent: number | null;
  /** CPUs the container may use (the host's when it has no limit). */
  onlineCpus: number;
  /** Memory in use without the page cache (what docker stats shows). */
  memoryBytes: number;
  /** Its memory limit; the host's memory when none is set. */
  memoryLimitBytes: number;
}

export interface LogScanOptions {
  /** Only lines from the last N seconds; default: from the start of the log. */
  sinceSec?: number;
  /** Only the last N lines of the log; default: all of it. */
  tail?: number;
  /** Only lines containing this fixed string. */
  grep?: string;
  /** Matching lines kept, the newest (default 200). */
  keep?: number;
  /** Bytes kept in all (default 256 KiB); the oldest kept lines are dropped past it. */
  maxBytes?: number;
  /** Bytes kept of one line (default 8 KiB); the rest is left out and the line marked. */
  maxLineBytes?: number;
  /** Reading stops after this long (default 60 s), and the result says so. */
  deadlineMs?: number;
}

/**
 * Docker Engine API. Every call is bounded by the target's timeout; an engine that cannot be
 * reached (socket missing, refused, no answer) throws UnavailableError. Operations on a container
 * that does not exist throw UserError (inspect returns null instead).
 */
export interface DockerExecutor {
  readonly name: string;
  /** e.g. docker:local (unix:///var/run/docker.sock) */
  readonly where: string;
  /** Containers of the configured compose project (all when none is configured), running or not; sorted by name. */
  list(): Promise<ContainerInfo[]>;
  /** One container by name or id; null when it does not exist. */
  inspect(nameOrId: string): Promise<ContainerInfo | null>;
  /** stopTimeoutSec: seconds before SIGKILL, default 10 (Docker's own default). */
  restart(id: string, opts?: { stopTimeoutSec?: number }): Promise<void>;
  /** Stopping a stopped container is a no-op. */
  stop(id: string, opts?: { stopTimeoutSec?: number }): Promise<void>;
  /** Starting a running container is a no-op. */
  start(id: string): Promise<void>;
  /**
   * The last `tail` lines (default 200) of stdout+stderr in order, demultiplexed. sinceSec: only
   * lines from the last N seconds. Over maxBytes (default 64 KiB) the newest lines are kept, after
   * a first line "… [output cut at N bytes]".
   */
  logs(id: string, opts?: { tail?: number; sinceSec?: number; maxBytes?: number }): Promise<string>;
  /**
   * Reads the requested window of the log (the whole log by default) as a stream and keeps only
   * the newest matching lines within the limits; the result counts what was read and what was
   * left out. Memory stays within the limits whatever the log's size.
   */
  scanLogs(id: string, opts?: LogScanOptions): Promise<LogScan>;
  /**
   * Polls until running (and healthy when it has a healthcheck, and started after startedAfter
   * when given) or until deadlineMs (a duration from the call) has passed; not ready is a result
   * (ready=false, info = last seen state), never an exception. pollMs defaults to 500.
   */
  waitReady(id: string, opts: { deadlineMs: number; pollMs?: number; startedAfter?: Date }): Promise<{ ready: boolean; info: ContainerInfo | null; waitedMs: number }>;
  /**
   * CPU and memory of a running container, from one non-streaming stats call (the engine samples
   * twice about a second apart, so the CPU share is current, not a lifetime average). A container
   * that is not running, or no longer exists, gives null.
   */
  stats(id: string): Promise<ContainerStats | null>;
  close(): Promise<void>;
}
