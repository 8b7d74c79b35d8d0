/**
 * /backup prune: backups (and their off-host copies) that the keep rules no longer hold, deleted
 * after approval. Replaces the manual's `find -mtime +7 -delete`, which would happily delete the
 * only good backup. Decisions come from retention.ts; the newest verified backup always stays.
 */
import type { Plan } from '../approvals/plan.ts';
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg } from '../i18n/index.ts';
import { retention, type RetentionDecision } from './retention.ts';
import type { BackupRow, BackupStore } from './store.ts';
import { backupHost } from './where.ts';

type Keep = Config['backups']['postgres'][string]['keep'];

/** What goes, per kind/target/mode group, judged now in the configured time zone. */
export async function pruneCandidates(config: Config, store: BackupStore, target?: string, now = new Date()): Promise<BackupRow[]> {
  const rows = (await store.list({ target, limit: 100_000 })).filter((r) => r.state === 'ok' || r.state === 'failed');
  const groups = new Map<string, BackupRow[]>();
  for (const r of rows) {
    const key = `${r.kind}/${r.target}/${r.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const drop: BackupRow[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    const keep: Keep | undefined = first.kind === 'files' ? config.backups.files[first.target]?.keep : config.backups.postgres[first.target]?.keep;
    if (!keep) continue; // no longer configured: left for a person to decide
    const decisions: RetentionDecision[] = retention(
      group.map((r) => ({ id: r.id, startedAt: new Date(r.started_at), state: r.state as 'ok' | 'failed', verifiedAt: r.verified_at ? new Date(r.verified_at) : null, verifyOk: r.verify_ok })),
      keep,
      { now, timeZone: config.timezone },
    );
    const goes = new Set(decisions.filter((d) => !d.keep).map((d) => d.id));
    drop.push(...group.filter((r) => goes.has(r.id)));
  }
  return drop.sort((a, b) => new Date(a.started_at).getTime() - new Date(b.started_at).getTime());
}

export async function prunePlan(config: Config, store: BackupStore, target?: string): Promise<Plan> {
  const drop = await pruneCandidates(config, store, target);
  const bytes = drop.reduce((n, r) => n + Number(r.size_bytes ?? 0), 0);
  const scope = target ?? [...Object.keys(config.backups.postgres), ...Object.keys(config.backups.files)].join(', ');
  return {
    summary: drop.length ? msg('backup:prune.summary', { count: drop.length, bytes, target: scope }) : msg('backup:prune.nothing', { target: scope }),
    steps: drop.map((r) => msg('backup:prune.step', { id: r.id, at: new Date(r.started_at).getTime(), size: Number(r.size_bytes ?? 0), state: r.state, copies: r.copies.filter((c) => c.ok).length })),
    risk: drop.length ? 'medium' : 'low',
    riskNote: msg('backup:prune.risk'),
    target: { ids: drop.map((r) => r.id).join(','), scope: target ?? null },
  };
}

/** Deletes what the plan named, but only what the rules still let go now (a backup verified since stays). */
export async function runPrune(ctx: ExecContext, store: BackupStore, plan: Plan): Promise<Report> {
  const { t } = ctx;
  const planned = String(plan.target.ids || '').split(',').filter(Boolean);
  const stillGoing = new Set((await pruneCandidates(ctx.config, store, plan.target.scope ? String(plan.target.scope) : undefined)).map((r) => r.id));
  const lines: string[] = [];
  let deleted = 0;
  let failedCount = 0;
  for (const id of planned) {
    if (!stillGoing.has(id)) {
      lines.push(t('backup:prune.kept_now', { id }));
      continue;
    }
    await ctx.progress(t('backup:prune.deleting', { id }));
    const row = await store.get(id);
    if (!row) continue;
    try {
      const parent = row.path.slice(0, row.path.lastIndexOf('/')) || '/';
      const r = await backupHost(ctx.targets, row.run_on).run('removeBackup', [parent, id], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
      // Off-host copies follow the same rules.
      for (const c of row.copies.filter((x) => x.ok)) {
        const cp = c.path.slice(0, c.path.lastIndexOf('/')) || '/';
        const rc = await backupHost(ctx.targets, `host:${c.host}`).run('removeBackup', [cp, id], { timeoutMs: 600_000 });
        if (rc.code !== 0) lines.push(t('backup:prune.copy_failed', { id, host: c.host, detail: rc.stderr.trim() }));
      }
      await store.deleted(id);
      deleted++;
      lines.push(t('backup:prune.deleted', { id }));
    } catch (err) {
      failedCount++;
      lines.push(t('backup:prune.failed', { id, detail: errorMessage(err) }));
    }
  }
  return {
    // i18n-exempt: the command line, the same in every language
    title: '/backup prune',
    status: failedCount ? 'warn' : 'ok',
    summary: t('backup:prune.done', { count: deleted }),
    sections: lines.length ? [{ title: t('backup:prune.details'), lines }] : [],
  };
}
