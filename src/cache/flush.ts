import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg, type Msg } from '../i18n/index.ts';
import type { RedisExecutor } from '../targets/types.ts';
import { census, estimate } from './census.ts';
import { glob } from './glob.ts';
import { placeParams, withSession } from './target.ts';

/** Kombu (Celery's transport) keeps its routing in these sets; without them publishing fails. */
const KOMBU_BINDINGS = '_kombu.binding.*';

/**
 * How much the Celery queue may have grown since approval before the flush is refused: approvers
 * agreed to lose N tasks, not many more. Queues move, so a little growth is tolerated.
 */
export const queueGrewTooMuch = (approved: number, now: number) => now > approved + Math.max(10, Math.ceil(approved * 0.1));

/** The plan: DBSIZE, Celery's queue and Kombu's bindings that FLUSHDB would take with it, read live. */
export async function flushPlan(ctx: CommandContext<unknown>, redis: RedisExecutor, db: number, runId: string): Promise<Plan> {
  const { config } = ctx;
  const key = config.cache.celery_queue;
  const place = placeParams(redis, db);
  return withSession(redis, db, async (session) => {
    const [queue, bindings] = [
      await session.listLength(key),
      await census(session, { match: glob(KOMBU_BINDINGS), isProtected: () => false, count: config.cache.batch, budgetMs: config.cache.scan_budget, samples: 0 }),
    ];
    const dbsize = bindings.dbsize;
    const kombu = estimate(bindings);
    const celery: Msg = queue.type === 'list'
      ? msg('cache:flush.plan.celery', { key, count: queue.length })
      : queue.type === 'none' ? msg('cache:flush.plan.celery_absent', { key }) : msg('cache:flush.plan.celery_wrong_type', { key, type: queue.type });
    return {
      summary: msg('cache:flush.plan.summary', { count: dbsize, ...place }),
      steps: [
        msg('cache:flush.plan.step_flush', place),
        celery,
        ...(kombu > 0 ? [msg(bindings.complete ? 'cache:flush.plan.kombu' : 'cache:flush.plan.kombu_estimate', { count: kombu })] : []),
      ],
      risk: 'high',
      riskNote: msg('cache:flush.plan.risk', { tasks: queue.length, key }),
      target: { lock: `redis:${redis.name}`, target: redis.name, db, dbsize, queue: queue.length, runId, kombu },
    };
  });
}

/** Refuses when the Redis was replaced or restarted, or Celery's queue grew past what was approved. */
export async function flushPrecheck(ctx: ExecContext, redis: RedisExecutor, plan: Plan): Promise<string | Msg | undefined> {
  const db = Number(plan.target.db);
  const place = placeParams(redis, db);
  try {
    const { info } = await redis.inspect();
    if (info.run_id !== plan.target.runId) return msg('cache:flush.precheck.replaced', { before: String(plan.target.runId).slice(0, 8), after: (info.run_id ?? '?').slice(0, 8), ...place });
    if (info.role === 'slave') return msg('cache:errors.replica', place);
    const queue = await withSession(redis, db, (s) => s.listLength(ctx.config.cache.celery_queue));
    const approved = Number(plan.target.queue);
    if (queueGrewTooMuch(approved, queue.length)) return msg('cache:flush.precheck.queue_grew', { key: ctx.config.cache.celery_queue, approved, now: queue.length });
    return undefined;
  } catch (err) {
    if (err instanceof UserError) return err.text;
    throw err;
  }
}

export async function executeFlush(ctx: ExecContext, redis: RedisExecutor, plan: Plan): Promise<Report> {
  const { t } = ctx;
  const db = Number(plan.target.db);
  const place = placeParams(redis, db);
  await ctx.progress(t('cache:flush.progress', place));
  const after = await withSession(redis, db, async (s) => {
    const before = await s.dbsize();
    await s.flushAsync();
    return { before, now: await s.dbsize() };
  });
  const lines = [t('cache:flush.result.now', { n: after.now })];
  if (Number(plan.target.kombu) > 0) lines.push(t('cache:flush.result.restart_workers'));
  return {
    // i18n-exempt: the command line, the same in every language
    title: `/cache flush ${redis.name}`,
    status: 'ok',
    summary: t('cache:flush.result.done', { count: after.before, ...place }),
    sections: [{ title: t('cache:flush.result.details'), lines }],
  };
}
