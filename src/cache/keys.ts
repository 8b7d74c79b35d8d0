import type { Config } from '../config/schema.ts';
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { RedisExecutor, RedisKeyInfo, RedisSession } from '../targets/types.ts';
import { census, censusHow, estimate, type Census } from './census.ts';
import { anyGlob, glob } from './glob.ts';
import { keyText, placeParams, protectedPatterns, ttlText } from './target.ts';

/** Sample keys shown by /cache keys. */
export const KEY_SAMPLES = 10;

/** "cache:user:1 — string, TTL 5 min, 72 B", with 🔒 before a protected key. */
export function sampleLine(t: T, key: Buffer, info: RedisKeyInfo, isProtected = false): string {
  const size = info.bytes === null ? '?' : t.bytes(info.bytes);
  return t('cache:keys.sample', { lock: isProtected ? '🔒 ' : '', key: keyText(key), type: info.type, ttl: ttlText(t, info.ttlMs), size });
}

/** Counts and samples the keys matching `pattern` on an open session, within the scan budget. */
export async function countKeys(config: Config, session: RedisSession, pattern: string, samples: number, signal?: AbortSignal): Promise<Census> {
  return census(session, {
    match: glob(pattern), isProtected: anyGlob(protectedPatterns(config)),
    count: config.cache.batch, budgetMs: config.cache.scan_budget, samples, signal,
  });
}

/** /cache keys: the count (exact or estimated, and how), then sample keys with TTL, type and memory. */
export async function keysReport(t: T, config: Config, redis: RedisExecutor, session: RedisSession, pattern: string): Promise<Report> {
  const c = await countKeys(config, session, pattern, KEY_SAMPLES);
  // Protected keys are sampled too, but the unprotected come first: they are what a clear takes.
  const shown = [...c.samples, ...c.protectedSamples].slice(0, KEY_SAMPLES);
  const infos = await session.describe(shown);
  const place = placeParams(redis, session.db);
  const count = estimate(c);
  const lines = shown.map((k, i) => sampleLine(t, k, infos[i], i >= c.samples.length));
  const sections = [{ title: t('cache:keys.samples_title', { count: shown.length }), lines, code: true }];
  const notes: string[] = [t.text(censusHow(c))];
  if (c.protectedMatched > 0) {
    notes.push(t('cache:keys.protected', { count: estimate(c, 'protectedMatched'), patterns: protectedPatterns(config).join(' ') }));
  }
  return {
    title: t('cache:keys.title', { pattern, ...place }),
    status: 'info',
    summary: t(c.complete ? 'cache:keys.summary_exact' : 'cache:keys.summary_estimate', { count, pattern, ...place }),
    sections: shown.length ? [{ title: t('cache:keys.how_title'), lines: notes }, ...sections] : [{ title: t('cache:keys.how_title'), lines: notes }],
  };
}
