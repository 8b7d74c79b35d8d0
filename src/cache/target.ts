import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type T } from '../i18n/index.ts';
import type { RedisExecutor, RedisSession, Targets } from '../targets/types.ts';

/** A targets.redis name: the one given, or the only one configured. */
export function pickRedis(targets: Targets, given: string | undefined, usage: readonly UsageLine[], hint: (name: string) => string): RedisExecutor {
  const known = [...targets.redis.keys()];
  if (!known.length) throw new UserError(msg('cache:errors.none_configured'));
  if (given === undefined) {
    if (known.length === 1) return targets.redis.get(known[0])!;
    throw new UserError(msg('cache:errors.which_target', { known }), { usage });
  }
  const redis = targets.redis.get(given);
  if (!redis) {
    const guess = didYouMean(given, known);
    throw new UserError(msg('cache:errors.unknown_target', { target: given, known }), { hint: guess && hint(guess), usage });
  }
  return redis;
}

/** Runs `work` on its own connection to database `db`, always closing it. */
export async function withSession<R>(redis: RedisExecutor, db: number, work: (s: RedisSession) => Promise<R>): Promise<R> {
  const session = await redis.session(db);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

/** A key name as a pattern that matches only itself. */
export const escapeGlob = (key: string) => key.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** What a clear never deletes unprompted: config's patterns, and always Celery's own queue. */
export function protectedPatterns(config: Config): string[] {
  const queue = escapeGlob(config.cache.celery_queue);
  return config.cache.protected.includes(queue) ? config.cache.protected : [...config.cache.protected, queue];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_SHOWN = 120;

/**
 * A key as a person reads it: UTF-8 when it is, else with \xNN escapes as redis-cli shows it;
 * control characters escaped either way, and a long key cut with its length given.
 */
export function keyText(key: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(key);
  } catch {
    text = [...key].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  }
  text = text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…(${key.length} B)` : text;
}

/** "db 0 of cache (127.0.0.1:6379)" pieces, for messages. */
export const placeParams = (redis: RedisExecutor, db: number) => ({ name: redis.name, where: redis.where.replace(/\/\d+$/, ''), db });

/** A TTL as shown beside a sample key. */
export function ttlText(t: T, ttlMs: number): string {
  if (ttlMs === -2) return t('cache:ttl.gone');
  if (ttlMs < 0) return t('cache:ttl.none');
  return t('cache:ttl.left', { ms: ttlMs });
}

/** A Redis that deletes can run on: reachable, and a master (a replica refuses writes). */
export async function writable(redis: RedisExecutor, db: number): Promise<{ runId: string }> {
  const { info } = await redis.inspect();
  if (info.role === 'slave') throw new UserError(msg('cache:errors.replica', placeParams(redis, db)));
  return { runId: info.run_id ?? '' };
}
