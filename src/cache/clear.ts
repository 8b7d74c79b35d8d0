import { setTimeout as sleep } from 'node:timers/promises';
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg } from '../i18n/index.ts';
import type { RedisExecutor, RedisKeyInfo, RedisSession } from '../targets/types.ts';
import { censusHow, estimate } from './census.ts';
import { anyGlob } from './glob.ts';
import { countKeys } from './keys.ts';
import { formatDuration } from '../config/duration.ts';
import { formatBytes } from '../i18n/format.ts';
import { keyText, placeParams, protectedPatterns, withSession } from './target.ts';

/** Sample keys on the approval card: enough to recognise what goes, few enough to read. */
const PLAN_SAMPLES = 5;
/** The rule of a clear that deletes protected keys too; two approvers unless config says otherwise. */
export const PROTECTED_RULE = 'cache.clear-protected';

export interface ClearOptions {
  pattern: string;
  /** Keys to leave; undefined deletes every match. */
  isProtected?: (key: Uint8Array) => boolean;
  batch: number;
  pauseMs: number;
  signal?: AbortSignal;
  /** After each batch, with the totals so far. */
  onBatch?(p: ClearProgress): void;
}

export interface ClearProgress {
  deleted: number;
  skipped: number;
  batches: number;
  ms: number;
}

/**
 * SCAN MATCH with pipelined UNLINK, one batch per round trip: the UNLINKs of this batch and the
 * SCAN for the next travel together. UNLINK frees big values in a background thread, so no single
 * command holds Redis; the pause between batches leaves it free for other clients. Stops between
 * batches when `signal` aborts; the totals are then exactly what was deleted.
 */
export async function runClear(session: RedisSession, o: ClearOptions): Promise<ClearProgress & { stopped: boolean }> {
  const started = performance.now();
  const p: ClearProgress = { deleted: 0, skipped: 0, batches: 0, ms: 0 };
  const skipped = new Set<string>();
  let page = await session.scan('0', o.batch, o.pattern);
  for (;;) {
    const doomed: Buffer[] = [];
    for (const key of page.keys) {
      // A protected key may come back twice if Redis resizes its table meanwhile; count it once.
      if (o.isProtected?.(key)) skipped.add(key.toString('latin1'));
      else doomed.push(key);
    }
    const last = page.cursor === '0';
    if (o.signal?.aborted) break;
    const res = await session.unlink(doomed, last ? undefined : { cursor: page.cursor, count: o.batch, match: o.pattern });
    p.deleted += res.unlinked;
    p.skipped = skipped.size;
    p.batches++;
    p.ms = performance.now() - started;
    o.onBatch?.({ ...p });
    if (!res.page) break;
    page = res.page;
    if (o.pauseMs > 0) await sleep(o.pauseMs, undefined, { signal: o.signal }).catch(() => undefined);
  }
  p.skipped = skipped.size;
  p.ms = performance.now() - started;
  return { ...p, stopped: !!o.signal?.aborted };
}

export interface ClearArgs {
  pattern: string;
  db: number;
  includeProtected: boolean;
}

/** The plan: how many keys match (exact or estimated), which protected ones stay, and samples, all read live. */
/** "cache:user:1 (string, ttl 4 m 59 s, 72 B)": the same in every language, as redis-cli would show it. */
function sampleFigures(key: Buffer, info: RedisKeyInfo, isProtected: boolean): string {
  const ttl = info.ttlMs === -1 ? '∞' : info.ttlMs < 0 ? '-' : formatDuration(info.ttlMs);
  const size = info.bytes === null ? '?' : formatBytes(info.bytes, 'en');
  return `${isProtected ? '🔒 ' : ''}${keyText(key)} (${info.type}, ttl ${ttl}, ${size})`;
}

export async function clearPlan(ctx: CommandContext<unknown>, redis: RedisExecutor, a: ClearArgs): Promise<Plan> {
  const { config } = ctx;
  const protect = protectedPatterns(config);
  const place = placeParams(redis, a.db);
  return withSession(redis, a.db, async (session) => {
    const c = await countKeys(config, session, a.pattern, PLAN_SAMPLES);
    const deletable = estimate(c, 'deletable');
    const guarded = estimate(c, 'protectedMatched');
    if (c.complete && c.matched === 0) throw new UserError(msg('cache:clear.nothing', { pattern: a.pattern, dbsize: c.dbsize, ...place }));
    // Every key found is protected: without --include-protected the run would delete nothing.
    if (!a.includeProtected && c.complete && deletable === 0) {
      throw new UserError(msg('cache:clear.only_protected', { pattern: a.pattern, count: guarded, keys: c.protectedSamples.map(keyText).join(', ') }));
    }
    const shown = a.includeProtected ? [...c.samples, ...c.protectedSamples].slice(0, PLAN_SAMPLES) : c.samples;
    const infos = await session.describe(shown);
    const count = a.includeProtected ? estimate(c) : deletable;
    const steps = [
      msg('cache:clear.plan.step_scan', { pattern: a.pattern, batch: config.cache.batch, pause: config.cache.pause }),
      a.includeProtected
        ? msg('cache:clear.plan.step_protected_too', { count: guarded, patterns: protect.join(' '), keys: c.protectedSamples.map(keyText).join(', ') })
        : msg(guarded ? 'cache:clear.plan.step_skip' : 'cache:clear.plan.step_skip_none', { count: guarded, patterns: protect.join(' '), keys: c.protectedSamples.map(keyText).join(', ') }),
      censusHow(c),
      // The plan is stored once and read in each reader's language, so samples are in the figures' own terms.
      ...(shown.length ? [msg('cache:clear.plan.step_samples', { samples: shown.map((k, i) => sampleFigures(k, infos[i], i >= c.samples.length)).join('; ') })] : []),
    ];
    return {
      summary: msg(c.complete ? 'cache:clear.plan.summary_exact' : 'cache:clear.plan.summary_estimate', { pattern: a.pattern, count, ...place }),
      steps,
      risk: a.includeProtected ? 'high' : 'medium',
      riskNote: msg(a.includeProtected ? 'cache:clear.plan.risk_protected' : 'cache:clear.plan.risk', { queue: config.cache.celery_queue }),
      rule: a.includeProtected ? PROTECTED_RULE : undefined,
      target: {
        lock: `redis:${redis.name}`, target: redis.name, db: a.db, pattern: a.pattern, includeProtected: a.includeProtected,
        // What is protected is fixed when it is approved: a config change in between does not widen the run.
        protected: JSON.stringify(protect), batch: config.cache.batch, pauseMs: config.cache.pause, estimate: count,
      },
    };
  });
}

/** Runs an approved clear: progress on the card, Stop between batches, and the exact count at the end. */
export async function executeClear(ctx: ExecContext, redis: RedisExecutor, plan: Plan): Promise<Report> {
  const { t } = ctx;
  const tg = plan.target;
  const pattern = String(tg.pattern);
  const db = Number(tg.db);
  const expected = Number(tg.estimate);
  const place = placeParams(redis, db);
  const includeProtected = tg.includeProtected === true;
  await ctx.progress(t('cache:clear.progress', { pattern, ...place }));
  let last = 0;
  let seen: ClearProgress = { deleted: 0, skipped: 0, batches: 0, ms: 0 };
  const result = await withSession(redis, db, (session) => runClear(session, {
    pattern,
    isProtected: includeProtected ? undefined : anyGlob(JSON.parse(String(tg.protected)) as string[]),
    batch: Number(tg.batch), pauseMs: Number(tg.pauseMs), signal: ctx.signal,
    onBatch(p) {
      seen = p;
      // The card is coalesced to one update a second anyway; this spares building it per batch.
      if (p.ms - last < 500) return;
      last = p.ms;
      ctx.status(t('cache:clear.status', { deleted: p.deleted, expected, skipped: p.skipped }));
    },
  })).catch((err: unknown) => {
    // What was deleted before the failure is gone for good: the reader must know how much.
    const reason = err instanceof UserError ? err.localized(t) : errorMessage(err);
    throw new UserError(t('cache:clear.failed', { deleted: seen.deleted, reason }));
  });
  if (result.stopped) throw new UserError(t('cache:clear.stopped', { deleted: result.deleted, skipped: result.skipped, pattern }));
  return {
    // i18n-exempt: the command line, the same in every language
    title: `/cache clear ${pattern}`,
    status: 'ok',
    summary: t(includeProtected ? 'cache:clear.done_all' : 'cache:clear.done', { deleted: result.deleted, skipped: result.skipped, pattern, ms: result.ms, ...place }),
    sections: [{
      title: t('cache:clear.details'),
      lines: [
        t('cache:clear.batches', { batches: result.batches, batch: Number(tg.batch), pause: Number(tg.pauseMs) }),
        t('cache:clear.versus_plan', { expected }),
      ],
    }],
  };
}
