import { Redis } from 'ioredis';
import type { RedisExecutor, RedisHealth } from './types.ts';

export function describeRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : '/0'}`;
}

/** Parses INFO's "key:value" lines into a map. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * One connection per target. ioredis would normally queue commands and retry forever while Redis
 * is down; a health check wants the real error now, so the client fails fast and is rebuilt on
 * the next call instead.
 */
export class RedisTarget implements RedisExecutor {
  readonly where: string;
  private client: Redis | undefined;
  private connecting: Promise<Redis> | undefined;

  constructor(readonly name: string, private readonly url: string, private readonly timeoutMs: number) {
    this.where = describeRedisUrl(url);
  }

  private connection(): Promise<Redis> {
    if (this.client?.status === 'ready') return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Redis> {
    this.client?.disconnect();
    const client = new Redis(this.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      connectionName: 'opsbot',
    });
    // ioredis reports the cause (ECONNREFUSED, auth) as an 'error' event and rejects connect()
    // with a generic "Connection is closed"; keep the cause so the user sees what went wrong.
    let cause: Error | undefined;
    client.on('error', (err: Error) => (cause = err));
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw cause ?? err;
    }
    return client;
  }

  async health(): Promise<RedisHealth> {
    const client = await this.connection();
    try {
      const t0 = performance.now();
      await client.ping();
      const latencyMs = performance.now() - t0;
      const [infoText, dbsize] = await Promise.all([client.info(), client.dbsize()]);
      const info = parseInfo(infoText);
      return {
        latencyMs,
        version: info.redis_version ?? '?',
        usedMemoryBytes: Number(info.used_memory ?? 0),
        usedMemoryHuman: info.used_memory_human ?? '?',
        maxMemoryBytes: Number(info.maxmemory ?? 0),
        maxMemoryHuman: info.maxmemory_human ?? '0B',
        evictedKeys: Number(info.evicted_keys ?? 0),
        connectedClients: Number(info.connected_clients ?? 0),
        dbsize,
        role: info.role ?? '?',
      };
    } catch (err) {
      // A timed-out connection may have a late reply in flight; start clean next time.
      client.disconnect();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.connecting?.catch(() => {});
    this.client?.disconnect();
    this.client = undefined;
  }
}
