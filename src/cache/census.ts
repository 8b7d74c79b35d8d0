import type { Msg } from '../i18n/index.ts';
import { msg } from '../i18n/index.ts';
import type { RedisSession } from '../targets/types.ts';
import type { Glob } from './glob.ts';

/**
 * How many keys match a pattern, from one pass of SCAN within a time budget. The pass reads keys
 * without MATCH and matches them here, so it knows how many it has looked at: when the cursor
 * comes back to 0 the count is exact; otherwise the matched share of the keys seen is scaled to
 * DBSIZE. SCAN walks the hash table, whose order has nothing to do with key names, so the keys
 * seen are a fair sample of the whole.
 */
export interface Census {
  dbsize: number;
  /** Keys SCAN returned (a key may come twice if Redis resized its table during the pass). */
  examined: number;
  matched: number;
  /** Of the matched, how many are protected. */
  protectedMatched: number;
  complete: boolean;
  elapsedMs: number;
  /** The first matching keys that are not protected, up to the sample size. */
  samples: Buffer[];
  /** The first matching keys that are protected, up to the sample size. */
  protectedSamples: Buffer[];
}

export interface CensusOptions {
  match: Glob;
  isProtected: (key: Uint8Array) => boolean;
  /** SCAN COUNT. */
  count: number;
  budgetMs: number;
  samples: number;
  signal?: AbortSignal;
}

export async function census(session: RedisSession, o: CensusOptions): Promise<Census> {
  const started = performance.now();
  const dbsize = await session.dbsize();
  const c: Census = { dbsize, examined: 0, matched: 0, protectedMatched: 0, complete: false, elapsedMs: 0, samples: [], protectedSamples: [] };
  const seen = new Set<string>();
  const keep = (list: Buffer[], key: Buffer) => {
    // Only the samples are de-duplicated: they are few, and a repeat would show twice.
    const id = key.toString('latin1');
    if (list.length < o.samples && !seen.has(id)) {
      seen.add(id);
      list.push(key);
    }
  };
  if (o.match.literal) {
    // One key: no scan needed, and the answer is exact whatever the keyspace's size.
    const key = Buffer.from(o.match.pattern.replace(/\\(.)/gs, '$1'), 'utf8');
    const [info] = await session.describe([key]);
    const found = info.type !== 'none';
    Object.assign(c, { examined: dbsize, complete: true, matched: found ? 1 : 0 });
    if (found && o.isProtected(key)) {
      c.protectedMatched = 1;
      keep(c.protectedSamples, key);
    } else if (found) keep(c.samples, key);
    c.elapsedMs = performance.now() - started;
    return c;
  }
  const deadline = started + o.budgetMs;
  let cursor = '0';
  do {
    if (o.signal?.aborted) break;
    const page = await session.scan(cursor, o.count);
    cursor = page.cursor;
    c.examined += page.keys.length;
    for (const key of page.keys) {
      if (!o.match.test(key)) continue;
      c.matched++;
      if (o.isProtected(key)) {
        c.protectedMatched++;
        keep(c.protectedSamples, key);
      } else keep(c.samples, key);
    }
  } while (cursor !== '0' && performance.now() < deadline);
  c.complete = cursor === '0';
  c.elapsedMs = performance.now() - started;
  return c;
}

/** The matching count: exact after a whole pass, else the matched share scaled to DBSIZE. */
export function estimate(c: Census, which: 'matched' | 'protectedMatched' | 'deletable' = 'matched'): number {
  const n = which === 'deletable' ? c.matched - c.protectedMatched : c[which];
  if (c.complete || c.examined === 0) return n;
  return Math.round((n / c.examined) * c.dbsize);
}

/** How the count was made, for the reader: "exact: all 20,010 keys scanned…" or how it was estimated. */
export function censusHow(c: Census): Msg {
  if (c.complete) return msg('cache:census.exact', { count: c.dbsize, ms: c.elapsedMs });
  return msg('cache:census.estimate', {
    examined: c.examined, dbsize: c.dbsize, ms: c.elapsedMs, matched: c.matched,
    percent: c.examined ? Math.round((c.matched / c.examined) * 1000) / 10 : 0,
  });
}
