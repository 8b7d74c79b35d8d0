import { Redis } from 'ioredis';
import { UnavailableError, UserError, errorMessage } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { RedisTargetSession } from './redis-session.ts';
import type { RedisExecutor, RedisHealth, RedisInspection, RedisSecurity, RedisSession } from './types.ts';

export function describeRedisUrl(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : '/0'}`;
}

/** The database a redis:// URL selects: its path, 0 without one. */
export function redisUrlDb(url: string): number {
  const n = Number(new URL(url).pathname.slice(1) || '0');
  return Number.isInteger(n) && n >= 0 ? n : 0;
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

/** A reply the server sent (a refusal, an unknown command), as opposed to no reply at all. */
export const isReplyError = (err: unknown): boolean => err instanceof Error && err.name === 'ReplyError';

/** The settings /cache info compares with the manual's advice (§3.2). */
const CONFIG_NAMES = ['maxmemory', 'maxmemory-policy', 'save', 'appendonly', 'databases'];

/**
 * ioredis would normally queue commands and retry forever while Redis is down; a command here
 * wants the real error now, so clients fail fast and are rebuilt on the next call instead.
 */
export async function openRedis(url: string, timeoutMs: number, connectionName: string): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName,
  });
  // ioredis reports the cause (ECONNREFUSED, auth) as an 'error' event and rejects connect()
  // with a generic "Connection is closed"; keep the cause so the user sees what went wrong.
  let cause: Error | undefined;
  client.on('error', (err: Error) => (cause = err));
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw cause ?? err;
  }
  return client;
}

/** One connection per target, shared by /health and /cache info; long work opens a session. */
export class RedisTarget implements RedisExecutor {
  readonly where: string;
  readonly db: number;
  private client: Redis | undefined;
  private connecting: Promise<Redis> | undefined;

  constructor(readonly name: string, private readonly url: string, private readonly timeoutMs: number) {
    this.where = describeRedisUrl(url);
    this.db = redisUrlDb(url);
  }

  private connection(): Promise<Redis> {
    if (this.client?.status === 'ready') return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Redis> {
    this.client?.disconnect();
    this.client = undefined;
    this.client = await openRedis(this.url, this.timeoutMs, 'opsbot');
    return this.client;
  }

  /** Connection failures in the reader's words; what the server itself answered stays as it is. */
  private unreachable(err: unknown): Error {
    if (isReplyError(err) || err instanceof UserError) return err as Error;
    return new UnavailableError(msg('targets:redis.unreachable', { name: this.name, where: this.where, reason: errorMessage(err) }));
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

  async inspect(): Promise<RedisInspection> {
    const client = await this.connection().catch((err: unknown) => {
      throw this.unreachable(err);
    });
    try {
      const infoText = await client.info();
      // One name per CONFIG GET: several in one call needs Redis 7.
      const replies = await Promise.allSettled(CONFIG_NAMES.map((n) => client.config('GET', n)));
      const config: Record<string, string> = {};
      let configError: string | undefined;
      for (const r of replies) {
        if (r.status === 'rejected') {
          if (!isReplyError(r.reason)) throw r.reason;
          configError ??= errorMessage(r.reason);
          continue;
        }
        const flat = Array.isArray(r.value) ? r.value : Object.entries(r.value as Record<string, unknown>).flat();
        for (let i = 0; i + 1 < flat.length; i += 2) config[String(flat[i])] = String(flat[i + 1]);
      }
      return { info: parseInfo(infoText), config: configError ? null : config, configError };
    } catch (err) {
      if (!isReplyError(err)) client.disconnect();
      throw this.unreachable(err);
    }
  }

  async security(): Promise<RedisSecurity> {
    const client = await this.connection().catch((err: unknown) => {
      throw this.unreachable(err);
    });
    const get = async (name: string): Promise<string> => {
      const reply = (await client.config('GET', name)) as unknown;
      const flat = Array.isArray(reply) ? reply : Object.entries(reply as Record<string, unknown>).flat();
      return flat.length >= 2 ? String(flat[1]) : '';
    };
    try {
      const [pass, bind, protectedMode, acl] = await Promise.allSettled([
        get('requirepass'), get('bind'), get('protected-mode'),
        client.call('ACL', 'LIST') as Promise<unknown>,
      ]);
      for (const r of [pass, bind, protectedMode, acl]) if (r.status === 'rejected' && !isReplyError(r.reason)) throw r.reason;
      const configError = [pass, bind, protectedMode].find((r) => r.status === 'rejected');
      // Each ACL rule line is "user NAME on|off [nopass] [#<sha256>…] …": only the name and the
      // two flags are kept, so a password hash never leaves this function.
      const aclUsers = acl.status === 'fulfilled' && Array.isArray(acl.value)
        ? acl.value.map((line) => {
          const words = String(line).split(' ');
          return { name: words[1] ?? '?', on: words.includes('on'), nopass: words.includes('nopass') };
        })
        : null;
      return {
        requirepass: pass.status === 'fulfilled' ? pass.value !== '' : null,
        bind: bind.status === 'fulfilled' ? bind.value : null,
        protectedMode: protectedMode.status === 'fulfilled' ? protectedMode.value : null,
        configError: configError?.status === 'rejected' ? errorMessage(configError.reason) : undefined,
        aclUsers,
        aclError: acl.status === 'rejected' ? errorMessage(acl.reason) : undefined,
        authenticated: !!new URL(this.url).password,
      };
    } catch (err) {
      client.disconnect();
      throw this.unreachable(err);
    }
  }

  async session(db: number): Promise<RedisSession> {
    const client = await openRedis(this.url, this.timeoutMs, 'opsbot-cache').catch((err: unknown) => {
      throw this.unreachable(err);
    });
    try {
      if (db !== this.db) await client.select(db);
    } catch (err) {
      client.disconnect();
      if (isReplyError(err)) throw new UserError(msg('targets:redis.no_db', { name: this.name, db, reason: errorMessage(err) }));
      throw this.unreachable(err);
    }
    return new RedisTargetSession(client, db, (err) => this.unreachable(err));
  }

  async close(): Promise<void> {
    await this.connecting?.catch(() => {});
    this.client?.disconnect();
    this.client = undefined;
  }
}
