import type { Redis } from 'ioredis';
import type { RedisKeyInfo, RedisScanPage, RedisSession } from './types.ts';

/** Keys per UNLINK command: a pipeline of short commands lets other clients in between them. */
const UNLINK_CHUNK = 64;

type Results = Array<[Error | null, unknown]> | null;

/** The replies of a pipeline, or its first error: a refused command must not pass for success. */
function replies(results: Results): unknown[] {
  if (!results) throw new Error('pipeline discarded');
  for (const [err] of results) if (err) throw err;
  return results.map(([, v]) => v);
}

const page = (reply: unknown): RedisScanPage => {
  const [cursor, keys] = reply as [Buffer, Buffer[]];
  return { cursor: cursor.toString(), keys };
};

/** A Redis connection of its own, on one database (see RedisSession). */
export class RedisTargetSession implements RedisSession {
  constructor(private readonly client: Redis, readonly db: number, private readonly failed: (err: unknown) => Error) {}

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw this.failed(err);
    }
  }

  scan(cursor: string, count: number, match?: string): Promise<RedisScanPage> {
    return this.guard(async () => page(match === undefined
      ? await this.client.scanBuffer(cursor, 'COUNT', count)
      : await this.client.scanBuffer(cursor, 'MATCH', match, 'COUNT', count)));
  }

  unlink(keys: Buffer[], next?: { cursor: string; count: number; match?: string }): Promise<{ unlinked: number; page?: RedisScanPage }> {
    return this.guard(async () => {
      const p = this.client.pipeline();
      let commands = 0;
      for (let i = 0; i < keys.length; i += UNLINK_CHUNK, commands++) p.unlink(...keys.slice(i, i + UNLINK_CHUNK));
      if (next) {
        if (next.match === undefined) p.scanBuffer(next.cursor, 'COUNT', next.count);
        else p.scanBuffer(next.cursor, 'MATCH', next.match, 'COUNT', next.count);
      }
      if (!commands && !next) return { unlinked: 0 };
      const out = replies(await p.exec());
      const unlinked = out.slice(0, commands).reduce<number>((n, v) => n + Number(v), 0);
      return { unlinked, page: next ? page(out[commands]) : undefined };
    });
  }

  describe(keys: Buffer[]): Promise<RedisKeyInfo[]> {
    return this.guard(async () => {
      if (!keys.length) return [];
      const p = this.client.pipeline();
      for (const k of keys) p.type(k).pttl(k).memory('USAGE', k);
      const results = await p.exec();
      if (!results) throw new Error('pipeline discarded');
      return keys.map((_, i) => {
        const [type, ttl, mem] = results.slice(i * 3, i * 3 + 3);
        if (type[0]) throw type[0];
        if (ttl[0]) throw ttl[0];
        // MEMORY may be renamed or denied while TYPE and PTTL are not: the size is then unknown.
        return { type: String(type[1]), ttlMs: Number(ttl[1]), bytes: mem[0] || mem[1] === null ? null : Number(mem[1]) };
      });
    });
  }

  dbsize(): Promise<number> {
    return this.guard(() => this.client.dbsize());
  }

  listLength(key: string): Promise<{ type: string; length: number }> {
    return this.guard(async () => {
      const type = await this.client.type(key);
      return { type, length: type === 'list' ? await this.client.llen(key) : 0 };
    });
  }

  flushAsync(): Promise<void> {
    return this.guard(async () => {
      await this.client.flushdb('ASYNC');
    });
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
