/** Small interfaces the commands see; the implementations hide pg, ioredis and friends. */

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

export interface PostgresExecutor {
  readonly name: string;
  /** host:port/db, never with credentials. */
  readonly where: string;
  health(): Promise<PostgresHealth>;
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

export interface RedisExecutor {
  readonly name: string;
  readonly where: string;
  health(): Promise<RedisHealth>;
  close(): Promise<void>;
}

export interface DiskUsage {
  filesystem: string;
  mount: string;
  size: string;
  used: string;
  avail: string;
  usePercent: number;
}

export interface MemoryUsage {
  /** As `free -h` prints them. */
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

export interface HostExecutor {
  readonly name: string;
  readonly where: string;
  health(): Promise<HostHealth>;
  close(): Promise<void>;
}

export interface Targets {
  postgres: Map<string, PostgresExecutor>;
  redis: Map<string, RedisExecutor>;
  hosts: Map<string, HostExecutor>;
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
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  /** The container's configured command (Path + Args), for diagnostics. */
  command: string[];
}

export interface DockerExecutor {
  readonly name: string;
  /** e.g. docker:local (unix:///var/run/docker.sock) */
  readonly where: string;
  /** Containers of the configured compose project (all when none is configured), running or not. */
  list(): Promise<ContainerInfo[]>;
  /** One container by name or id; null when it does not exist. */
  inspect(nameOrId: string): Promise<ContainerInfo | null>;
  restart(id: string, opts?: { stopTimeoutSec?: number }): Promise<void>;
  stop(id: string, opts?: { stopTimeoutSec?: number }): Promise<void>;
  start(id: string): Promise<void>;
  /** The last lines of stdout+stderr, demultiplexed, capped. */
  logs(id: string, opts?: { tail?: number; sinceSec?: number; maxBytes?: number }): Promise<string>;
  /** Polls until running (and healthy when it has a healthcheck) or the deadline passes. */
  waitReady(id: string, opts: { deadlineMs: number; pollMs?: number; startedAfter?: Date }): Promise<{ ready: boolean; info: ContainerInfo | null; waitedMs: number }>;
  close(): Promise<void>;
}
