/**
 * The weekly maintenance report (manual §1.3 每周维护, appendix A 每周检查): bloat, slow queries,
 * unused indexes and cache health in one post, from the same reads as /db bloat, /db slow,
 * /db indexes and /cache info. The maintenance it suggests is offered as buttons that run the
 * existing commands as whoever clicks (src/slack/command-actions.ts): their permissions, approval
 * rules and audit apply, and nothing runs from the report itself. Nothing is ever dropped: unused
 * indexes are listed for a person to judge.
 */
import { infoReport } from '../cache/info.ts';
import type { Config } from '../config/schema.ts';
import { errorMessage, UserError } from '../core/errors.ts';
import { worst, type Action, type Report, type Section, type Status } from '../core/report.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import { bloatLines, readBloat } from '../db/bloat.ts';
import { indexesReport } from '../db/indexes.ts';
import { shownName } from '../db/resolve.ts';
import { slowReport } from '../db/slow.ts';
import { guarded } from '../db/target.ts';
import type { T } from '../i18n/index.ts';
import { limit } from '../targets/errors.ts';
import type { PostgresExecutor, Targets } from '../targets/types.ts';
import { commandButton } from '../core/command-action.ts';
import { quoteWord } from '../core/args.ts';

/** Tables offered a button each: a handful, worst first, keeps the message readable. */
const MAX_TABLES = 3;


function failed(t: T, err: unknown): string {
  if (err instanceof TimeoutError) return t('checks:timeout', limit(err.ms));
  if (err instanceof UserError) return err.localized(t);
  return errorMessage(err);
}

/** A part that failed leaves a line saying why; the other parts stand. */
async function part<R>(work: () => Promise<R>, ms: number): Promise<{ ok: true; value: R } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await withTimeout(work(), ms) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A report's content as sections of another: its summary first, then its own sections. */
function embed(title: string, r: Report): Section[] {
  const lines = [r.summary ?? '', ...(r.checks ?? []).map((c) => `${c.status === 'ok' ? '✅' : c.status === 'warn' ? '⚠️' : '❌'} ${c.name}: ${c.text}`)].filter(Boolean);
  return [{ title, lines }, ...(r.sections ?? [])];
}

export async function weeklyReport(t: T, config: Config, targets: Targets, target: { name: string; pg: PostgresExecutor }): Promise<Report> {
  const { name, pg } = target;
  const ms = config.targets.postgres[name]?.timeout ?? config.perf.timeout;
  const flag = Object.keys(config.targets.postgres).length > 1 ? ` --target ${name}` : '';
  const [bloat, slow, indexes, ...caches] = await Promise.all([
    part(() => guarded(config, name, readBloat(config, pg, 10)), ms),
    part(() => guarded(config, name, slowReport(t, pg, name, 5)), ms),
    part(() => guarded(config, name, indexesReport(t, pg, name, 10)), ms),
    ...[...targets.redis.values()].map((r) => part(async () => infoReport(t, r, await r.inspect()), config.targets.redis[r.name]?.timeout ?? config.perf.timeout)),
  ]);
  const statuses: Status[] = [];
  const sections: Section[] = [];
  const actions: Action[] = [];

  // 1. Dead tuples (清理死元组): VACUUM and ANALYZE of each bloated table; REINDEX where it is critical.
  if (bloat.ok) {
    const bad = bloat.value.filter((b) => b.status !== 'ok');
    statuses.push(worst(bloat.value.map((b) => b.status)));
    sections.push({
      title: t('maintenance:weekly.bloat_title', { count: bad.length, warn: config.db.dead_ratio_percent.warn }),
      lines: bloat.value.length ? bloatLines(t, bloat.value) : [t('db:bloat.none')],
    });
    for (const b of bad.slice(0, MAX_TABLES)) {
      const table = shownName(b.r);
      actions.push(commandButton(t('maintenance:weekly.vacuum', { table }), `/db vacuum ${quoteWord(table)}${flag}`, 'primary'));
      actions.push(commandButton(t('maintenance:weekly.analyze', { table }), `/db analyze ${quoteWord(table)}${flag}`));
      // An index follows its table's churn; rebuilding is worth an approval only when it is bad.
      if (b.status === 'crit') actions.push(commandButton(t('maintenance:weekly.reindex', { table }), `/db reindex ${quoteWord(table)}${flag}`));
    }
  } else {
    statuses.push('warn');
    sections.push({ title: t('maintenance:weekly.bloat_title', { count: 0, warn: config.db.dead_ratio_percent.warn }), lines: [t('maintenance:weekly.failed', { reason: failed(t, bloat.error) })] });
  }
  // The manual's weekly ANALYZE of the whole database: always offered.
  actions.push(commandButton(t('maintenance:weekly.analyze_all'), `/db analyze${flag}`));

  // 2. Slow queries (查看慢查询).
  if (slow.ok) sections.push(...embed(t('maintenance:weekly.slow_title'), slow.value));
  else sections.push({ title: t('maintenance:weekly.slow_title'), lines: [t('maintenance:weekly.failed', { reason: failed(t, slow.error) })] });

  // 3. Indexes: unused ones are listed, never dropped from here.
  if (indexes.ok) {
    if (indexes.value.status !== 'info') statuses.push(indexes.value.status);
    sections.push(...embed(t('maintenance:weekly.indexes_title'), indexes.value));
    sections.push({ title: t('maintenance:weekly.drop_title'), lines: [t('maintenance:weekly.drop_note')] });
  } else sections.push({ title: t('maintenance:weekly.indexes_title'), lines: [t('maintenance:weekly.failed', { reason: failed(t, indexes.error) })] });

  // 4. Cache health (缓存清理): §3.2's settings, memory, hits and evictions.
  const redisNames = [...targets.redis.keys()];
  caches.forEach((c, i) => {
    const title = t('maintenance:weekly.cache_title', { name: redisNames[i] });
    if (c.ok) {
      const r = c.value as Report;
      statuses.push(r.status === 'info' ? 'ok' : r.status);
      sections.push(...embed(title, r).slice(0, 4));
    } else {
      statuses.push('warn');
      sections.push({ title, lines: [t('maintenance:weekly.failed', { reason: failed(t, c.error) })] });
    }
  });

  const status = worst(statuses);
  const bad = bloat.ok ? bloat.value.filter((b) => b.status !== 'ok').length : 0;
  return {
    title: t('maintenance:weekly.title', { target: name }),
    status,
    summary: bad ? t('maintenance:weekly.summary_bad', { count: bad }) : t('maintenance:weekly.summary_ok'),
    sections,
    actions,
    footer: t('maintenance:weekly.footer'),
  };
}
