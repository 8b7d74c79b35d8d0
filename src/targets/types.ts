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
