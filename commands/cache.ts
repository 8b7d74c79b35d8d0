import { z } from 'zod';
import type { Plan } from '../src/approvals/plan.ts';
import { clearPlan, executeClear, PROTECTED_RULE } from '../src/cache/clear.ts';
import { executeFlush, flushPlan, flushPrecheck } from '../src/cache/flush.ts';
import { glob } from '../src/cache/glob.ts';
import { infoReport } from '../src/cache/info.ts';
import { keysReport } from '../src/cache/keys.ts';
import { pickRedis, withSession, writable } from '../src/cache/target.ts';
import { defineCommand, type AnyCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { formatUsage } from '../src/core/usage.ts';
import { msg } from '../src/i18n/index.ts';
import type { Targets } from '../src/targets/types.ts';

const USAGE = [
  { syntax: '/cache info [target]', note: 'cache:usage.info' },
  { syntax: '/cache keys <pattern> [--target T] [--db N]', note: 'cache:usage.keys' },
  { syntax: '/cache clear <pattern> [--target T] [--db N] [--include-protected] [--dry-run]', note: 'cache:usage.clear' },
  { syntax: '/cache flush [target] [--db N] [--dry-run]', note: 'cache:usage.flush' },
];

// Read-only subcommands are open unless permissions.cache-read restricts them; deleting needs permissions.cache.
const READ = 'cache-read';
const WRITE = 'cache';
/** Two people agree before a whole database, or Celery's own keys, are deleted. */
const TWO = { approvers: ['approver', 'admin'], count: 2 };

const db = z.coerce.number().int().min(0).max(65_535).optional();
/** The target named, or the only one; a typo gets "did you mean" with the corrected command. */
const redisOf = (targets: Targets, given: string | undefined, line: (typeof USAGE)[number], hint: (name: string) => string) => pickRedis(targets, given, [line], hint);
/** The approved plan's target; it was configured when planned, so its absence now is a config change. */
function planned(ctx: ExecContext, plan: Plan) {
  const redis = ctx.targets.redis.get(String(plan.target.target));
  if (!redis) throw new UserError(msg('cache:errors.unknown_target', { target: String(plan.target.target), known: [...ctx.targets.redis.keys()] }));
  return redis;
}

const info = defineCommand({
  // i18n-exempt: the command's name
  name: 'cache info',
  summary: 'cache:usage.info',
  permission: READ,
  usage: [USAGE[0]],
  positionals: ['target'],
  args: z.object({ target: z.string().optional() }),
  async run(ctx): Promise<Report> {
    const redis = redisOf(ctx.targets, ctx.args.target, USAGE[0], (n) => `/cache info ${n}`);
    const inspection = await redis.inspect();
    // The eviction warning needs to know whether Celery's queue lives here; without it the report stands.
    const queue = ctx.config.cache.celery_queue;
    const celery = await withSession(redis, redis.db, (s) => s.listLength(queue)).then((q) => ({ key: queue, ...q }), () => undefined);
    return infoReport(ctx.t, redis, inspection, celery);
  },
});

const keys = defineCommand({
  // i18n-exempt: the command's name
  name: 'cache keys',
  summary: 'cache:usage.keys',
  permission: READ,
  usage: [USAGE[1]],
  positionals: ['pattern'],
  args: z.object({ pattern: z.string(), target: z.string().optional(), db }),
  async run(ctx): Promise<Report> {
    glob(ctx.args.pattern);
    const redis = redisOf(ctx.targets, ctx.args.target, USAGE[1], (n) => `--target ${n}`);
    return withSession(redis, ctx.args.db ?? redis.db, (s) => keysReport(ctx.t, ctx.config, redis, s, ctx.args.pattern));
  },
});

const clear = defineCommand({
  // i18n-exempt: the command's name
  name: 'cache clear',
  summary: 'cache:usage.clear',
  permission: WRITE,
  usage: [USAGE[2]],
  positionals: ['pattern'],
  destructive: true,
  cancellable: true,
  defaultRules: { [PROTECTED_RULE]: TWO },
  args: z.object({ pattern: z.string(), target: z.string().optional(), db, includeProtected: z.boolean().default(false) }),
  async plan(ctx): Promise<Plan> {
    const redis = redisOf(ctx.targets, ctx.args.target, USAGE[2], (n) => `--target ${n}`);
    const database = ctx.args.db ?? redis.db;
    glob(ctx.args.pattern);
    await writable(redis, database);
    return clearPlan(ctx, redis, { pattern: ctx.args.pattern, db: database, includeProtected: ctx.args.includeProtected });
  },
  async precheck(ctx: ExecContext, plan: Plan) {
    try {
      await writable(planned(ctx, plan), Number(plan.target.db));
      return undefined;
    } catch (err) {
      if (err instanceof UserError) return err.text;
      throw err;
    }
  },
  async execute(ctx: ExecContext, plan: Plan) {
    return executeClear(ctx, planned(ctx, plan), plan);
  },
});

const flush = defineCommand({
  // i18n-exempt: the command's name
  name: 'cache flush',
  summary: 'cache:usage.flush',
  permission: WRITE,
  usage: [USAGE[3]],
  positionals: ['target'],
  destructive: true,
  defaultRules: { 'cache.flush': TWO },
  args: z.object({ target: z.string().optional(), db }),
  async plan(ctx): Promise<Plan> {
    const redis = redisOf(ctx.targets, ctx.args.target, USAGE[3], (n) => `/cache flush ${n}`);
    const database = ctx.args.db ?? redis.db;
    const { runId } = await writable(redis, database);
    return flushPlan(ctx, redis, database, runId);
  },
  async precheck(ctx: ExecContext, plan: Plan) {
    return flushPrecheck(ctx, planned(ctx, plan), plan);
  },
  async execute(ctx: ExecContext, plan: Plan) {
    return executeFlush(ctx, planned(ctx, plan), plan);
  },
});

const SUBCOMMANDS = { info, keys, clear, flush } as Record<string, AnyCommand>;

export default defineCommand({
  name: 'cache',
  summary: 'cache:summary',
  usage: USAGE,
  permission: READ,
  positionals: ['action'],
  visibility: 'ephemeral',
  subcommands: SUBCOMMANDS,
  // A word that names no subcommand lands here, and is refused with the list and a "did you mean".
  args: z.object({ action: z.enum(['info', 'keys', 'clear', 'flush']).optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    return {
      title: t('cache:help.title'),
      status: 'info',
      summary: t('cache:summary'),
      sections: [{ title: t('core:usage.title'), lines: formatUsage(USAGE, t), code: true }],
    };
  },
});
