import { setTimeout as sleep } from 'node:timers/promises';
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError, readerMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg } from '../i18n/index.ts';
import type { RedisExecutor, RedisKeyInfo, RedisScanPage, RedisSession } from '../targets/types.ts';
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
 * SCAN MATCH with pipelined UNLINK. Redis runs one command at a time, so the clear keeps it
 * supplied without waiting on itself: as soon as a page arrives the SCAN for the next goes out,
 * and Redis walks it while this side sorts the page's keys and sends their UNLINKs (a few dozen
 * keys per command, see RedisSession.unlink), which queue behind that SCAN on the same
 * connection. Round trips and this process's own work then overlap Redis's instead of adding to
 * it. Every command stays short (one SCAN page, one UNLINK chunk), and Redis serves other clients
 * between them, which is what bounds their latency; UNLINK frees big values in a background
 * thread. With a pause configured, the next SCAN waits that long after each batch instead, to
 * leave a busy Redis more room. Stops between batches when `signal` aborts: no UNLINK is sent
 * after that, the ones already sent are waited for, and the totals are exactly what was deleted.
 */
export async function runClear(session: RedisSession, o: ClearOptions): Promise<ClearProgress & { stopped: boolean }> {
  const started = performance.now();
  const p: ClearProgress = { deleted: 0, skipped: 0, batches: 0, ms: 0 };
  const skipped = new Set<string>();
  // UNLINKs sent and not answered yet: at most a batch or two, since each SCAN reply comes after them.
  const unlinking = new Set<Promise<void>>();
  let failed: { err: unknown } | undefined;
  const stopped = () => !!o.signal?.aborted || !!failed;
  const scan = (cursor: string) => {
    const next = session.scan(cursor, o.batch, o.pattern);
    // A page asked for ahead and then not wanted (Stop, a failure) must not surface as unhandled.
    next.catch(() => undefined);
    return next;
  };
  let next: Promise<RedisScanPage> | undefined = scan('0');
  try {
    while (next) {
      const page = await next;
      next = undefined;
      const more = page.cursor !== '0';
      if (more && o.pauseMs <= 0 && !stopped()) next = scan(page.cursor);
      const doomed: Buffer[] = [];
      for (const key of page.keys) {
        // A protected key may come back twice if Redis resizes its table meanwhile; count it once.
        if (o.isProtected?.(key)) skipped.add(key.toString('latin1'));
        else doomed.push(key);
      }
      if (stopped()) break;
      if (doomed.length) {
        const sent = session.unlink(doomed).then(
          (res) => void (p.deleted += res.unlinked),
          (err: unknown) => void (failed ??= { err }),
        );
        unlinking.add(sent);
        void sent.finally(() => unlinking.delete(sent));
      }
      p.skipped = skipped.size;
      p.batches++;
      p.ms = performance.now() - started;
      o.onBatch?.({ ...p });
      if (more && !next) {
        // The batch's UNLINKs run in Redis during the pause; the next SCAN queues behind them.
        await sleep(o.pauseMs, undefined, { signal: o.signal }).catch(() => undefined);
        if (!stopped()) next = scan(page.cursor);
      }
    }
  } catch (err) {
    failed ??= { err };
  }
  await Promise.all(unlinking);
  p.skipped = skipped.size;
  p.ms = performance.now() - started;
  if (failed) {
    // The UNLINKs answered since the last batch count too: the caller reports what is gone for good.
    o.onBatch?.({ ...p });
    throw failed.err;
  }
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
    const reason = readerMessage(t, err);
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
