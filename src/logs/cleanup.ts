/**
 * /logs cleanup (manual §1.2 日志清理: find logs/ -name "*.log.*" -mtime +30 -delete), made safe:
 * the plan names each rotated file older than the limit with its size and mtime, never a live log
 * (names.ts decides what is rotated), and execution deletes exactly those, each only if it is
 * still the file that was planned.
 */
import type { Plan } from '../approvals/plan.ts';
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg, type Msg } from '../i18n/index.ts';
import type { Targets } from '../targets/types.ts';
import { listLogs } from './files.ts';
import { hostLogs } from './rotation.ts';
import type { RemoveEntry } from './templates.ts';

export interface PlannedFile extends RemoveEntry {
  host: string;
}

/** The live logs to look beside, per host (each once, whichever services share it). */
export function logsByHost(config: Config, service?: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(config.services)) {
    if (service && name !== service) continue;
    if (!svc.host) continue;
    const all = out.get(svc.host) ?? [];
    for (const f of hostLogs(svc)) if (!all.includes(f)) all.push(f);
    if (all.length) out.set(svc.host, all);
  }
  return out;
}

/** Rotated files last written before `cutoffSec`, per host, oldest first. */
export async function findOld(config: Config, targets: Targets, cutoffSec: number, service?: string): Promise<PlannedFile[]> {
  const files: PlannedFile[] = [];
  for (const [hostName, logs] of logsByHost(config, service)) {
    const host = targets.hosts.get(hostName);
    if (!host) throw new Error(`host ${hostName} is not configured`);
    for (const l of await listLogs(host, logs)) {
      for (const r of l.rotated) {
        if (r.mtime < cutoffSec && !files.some((f) => f.host === hostName && f.path === r.path)) files.push({ host: hostName, log: l.log, path: r.path, size: r.size, mtime: r.mtime });
      }
    }
  }
  return files.sort((a, b) => a.mtime - b.mtime || a.path.localeCompare(b.path));
}

const STEPS_SHOWN = 100;

export async function cleanupPlan(config: Config, targets: Targets, olderThanMs: number, service?: string, now = Date.now()): Promise<Plan> {
  const cutoffSec = Math.floor((now - olderThanMs) / 1000);
  const files = await findOld(config, targets, cutoffSec, service);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const steps: Array<Msg | string> = files.slice(0, STEPS_SHOWN).map((f) => msg('logs:cleanup.step', { host: f.host, path: f.path, size: f.size, days: Math.floor((now / 1000 - f.mtime) / 86_400) }));
  if (files.length > STEPS_SHOWN) steps.push(msg('logs:cleanup.more', { count: files.length - STEPS_SHOWN }));
  return {
    summary: files.length ? msg('logs:cleanup.summary', { count: files.length, bytes, age: olderThanMs }) : msg('logs:cleanup.nothing', { age: olderThanMs }),
    steps,
    risk: 'low',
    riskNote: msg('logs:cleanup.risk'),
    target: { files: JSON.stringify(files), bytes, cutoff: cutoffSec, service: service ?? null },
  };
}

const planned = (plan: Plan): PlannedFile[] => JSON.parse(String(plan.target.files || '[]')) as PlannedFile[];

/** Refuses when any planned file is no longer exactly as planned (gone, rewritten, grown). */
export async function cleanupPrecheck(ctx: ExecContext, plan: Plan): Promise<Msg | undefined> {
  const files = planned(plan);
  const byHost = new Map<string, PlannedFile[]>();
  for (const f of files) byHost.set(f.host, [...(byHost.get(f.host) ?? []), f]);
  for (const [hostName, list] of byHost) {
    const host = ctx.targets.hosts.get(hostName);
    if (!host) return msg('logs:cleanup.host_gone', { host: hostName });
    const now = await listLogs(host, [...new Set(list.map((f) => f.log))]);
    const seen = new Map(now.flatMap((l) => l.rotated).map((r) => [r.path, r]));
    for (const f of list) {
      const cur = seen.get(f.path);
      if (!cur || cur.size !== f.size || cur.mtime !== f.mtime) return msg('logs:cleanup.changed', { host: hostName, path: f.path });
    }
  }
  return undefined;
}

export async function runCleanup(ctx: ExecContext, plan: Plan): Promise<Report> {
  const { t } = ctx;
  const files = planned(plan);
  const byHost = new Map<string, PlannedFile[]>();
  for (const f of files) byHost.set(f.host, [...(byHost.get(f.host) ?? []), f]);
  let freed = 0;
  let removed = 0;
  const problems: string[] = [];
  for (const [hostName, list] of byHost) {
    await ctx.progress(t('logs:cleanup.deleting', { count: list.length, host: hostName }));
    try {
      const host = ctx.targets.hosts.get(hostName);
      if (!host) throw new Error(t('logs:cleanup.host_gone', { host: hostName }));
      const res = await host.run('removeRotatedLogs', [list], { timeoutMs: 600_000 });
      for (const line of res.stdout.split('\n')) {
        const [kind, ...rest] = line.split('\t');
        if (kind === 'removed') {
          freed += Number(rest[0]);
          removed++;
        } else if (kind === 'changed') problems.push(t('logs:cleanup.kept_changed', { host: hostName, path: rest.slice(1).join('\t') }));
        else if (kind === 'gone') problems.push(t('logs:cleanup.kept_gone', { host: hostName, path: rest.join('\t') }));
        else if (kind === 'failed') problems.push(t('logs:cleanup.failed', { host: hostName, path: rest.join('\t') }));
      }
      if (res.code !== 0) problems.push(t('logs:cleanup.host_failed', { host: hostName, detail: res.stderr.trim() || `exit ${res.code}` }));
    } catch (err) {
      problems.push(t('logs:cleanup.host_failed', { host: hostName, detail: errorMessage(err) }));
    }
  }
  return {
    // i18n-exempt: the command line, the same in every language
    title: '/logs cleanup',
    status: problems.length ? 'warn' : 'ok',
    summary: t('logs:cleanup.done', { count: removed, bytes: freed, exact: freed }),
    sections: problems.length ? [{ title: t('logs:cleanup.problems'), lines: problems }] : [],
  };
}
