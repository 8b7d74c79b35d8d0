/**
 * /restore (manual §2.2, done safely). The manual drops the live database first and hopes the
 * file is good. Here the backup is restored beside the live database and checked; only then are
 * the app's writers stopped for a swap of names, one transaction, and started again. The
 * replaced database is kept for restore.keep_previous, and /restore undo swaps it back. At every
 * step the original data stays intact under a name the card gives.
 *
 * Databases made here carry a comment "opsbot:{json}" saying what they are; the cleanup schedule
 * and whereNow read it.
 */
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Report } from '../core/report.ts';
import { msg, type T } from '../i18n/index.ts';
import type { Store } from '../store/types.ts';
import type { Targets } from '../targets/types.ts';
import { checksumProblems, restoreInto } from './check.ts';
import { databases, dropDatabase, ident, splitUrl, swapDatabases, withClient, withDatabase, type DatabaseInfo } from './pg.ts';
import type { BackupRow, Manifest } from './store.ts';
import { backupHost } from './where.ts';
import pg from 'pg';

/** What a database made by opsbot says about itself. */
export interface Mark {
  kind: 'side' | 'live' | 'before' | 'undone' | 'verify';
  request: string;
  backup?: string;
  /** before/undone: dropped by the cleanup after this time (ISO). */
  until?: string;
}

export const markText = (m: Mark) => `opsbot:${JSON.stringify(m)}`;

export function readMark(comment: string | null): Mark | undefined {
  if (!comment?.startsWith('opsbot:')) return undefined;
  try {
    return JSON.parse(comment.slice('opsbot:'.length)) as Mark;
  } catch {
    return undefined;
  }
}

/** PostgreSQL cuts names at 63 bytes; a cut name would collide or mislead, so it is refused. */
export function checkName(name: string): string {
  if (Buffer.byteLength(name) > 63) throw new UserError(msg('restore:errors.name_too_long', { name }));
  return name;
}

/** The containers restore.stop_services names, resolved now so the plan shows exactly which. */
export function writers(config: Config): Array<{ service: string; docker: string; container: string; stopTimeoutSec: number; readyTimeoutMs: number }> {
  return config.restore.stop_services.map((service) => {
    const s = config.services[service];
    if (!s?.docker || !s.container) throw new UserError(msg('restore:errors.service_not_docker', { service }));
    return { service, docker: s.docker, container: s.container, stopTimeoutSec: Math.round(s.stop_timeout / 1000), readyTimeoutMs: s.ready_timeout };
  });
}

async function stopWriters(ctx: ExecContext, list: ReturnType<typeof writers>): Promise<void> {
  await Promise.all(list.map(async (w) => {
    const docker = ctx.targets.docker.get(w.docker);
    if (!docker) throw new UserError(msg('restore:errors.no_docker', { docker: w.docker }));
    await docker.stop(w.container, { stopTimeoutSec: w.stopTimeoutSec });
  }));
}

/** Starts the writers and waits until each is running (and healthy when it has a healthcheck). */
async function startWriters(ctx: ExecContext, list: ReturnType<typeof writers>): Promise<string[]> {
  const notReady: string[] = [];
  await Promise.all(list.map(async (w) => {
    const docker = ctx.targets.docker.get(w.docker);
    if (!docker) throw new UserError(msg('restore:errors.no_docker', { docker: w.docker }));
    await docker.start(w.container);
    const { ready } = await docker.waitReady(w.container, { deadlineMs: w.readyTimeoutMs, pollMs: 200 });
    if (!ready) notReady.push(w.service);
  }));
  return notReady;
}

/** Free space where the server keeps its data, when the dump machine can see that directory. */
async function freeSpaceProblem(ctx: ExecContext, row: BackupRow, liveUrl: string, t: T): Promise<{ problem?: string; line: string }> {
  const info = await withClient(liveUrl, (c) => c.query<{ d: string | null; size: string }>(
    `select current_setting('data_directory', true) as d, pg_database_size(current_database())::text as size`,
  ).then((r) => r.rows[0])).catch(() => undefined);
  const need = Number(info?.size ?? 0);
  if (!info?.d) return { line: t('restore:disk.unknown') };
  const host = backupHost(ctx.targets, row.run_on);
  const r = await host.run('dfPaths', [[info.d]], { timeoutMs: 20_000 }).catch(() => undefined);
  const line = r?.code === 0 ? r.stdout.trim().split('\n')[1] : undefined;
  const availKb = line ? Number(line.split(/\s+/)[3]) : Number.NaN;
  if (!Number.isFinite(availKb)) return { line: t('restore:disk.unknown') };
  const avail = availKb * 1024;
  // The restored copy is about as large as the live one, plus room for its indexes being built.
  if (avail < need * 1.2) return { problem: t('restore:disk.too_little', { avail, need }), line: '' };
  return { line: t('restore:disk.ok', { avail, need }) };
}

export interface RestorePlanTarget {
  [k: string]: string | number | boolean | null;
  lock: string;
  target: string;
  backup: string;
  database: string;
  side: string;
  before: string;
}

/**
 * Runs an approved restore. Steps 1–3 never touch the live database; the swap is one
 * transaction; a failure after it leaves the restored data live and the old data one
 * /restore undo away.
 */
export async function runRestore(ctx: ExecContext, row: BackupRow & { manifest: Manifest }, p: RestorePlanTarget): Promise<Report> {
  const { t } = ctx;
  const liveUrl = ctx.config.targets.postgres[p.target].url;
  const admin = withDatabase(liveUrl, 'postgres');
  const list = writers(ctx.config);
  const lines: string[] = [];
  let warn = false;

  // 1. The backup is what its manifest says, and there is room for a second copy.
  await ctx.progress(t('restore:step.check'));
  const bad = await checksumProblems(backupHost(ctx.targets, row.run_on), row.manifest, t, ctx.signal);
  if (bad.length) throw new UserError(msg('restore:errors.checksums', { id: row.id, count: bad.length, first: bad[0] }));
  const disk = await freeSpaceProblem(ctx, row, liveUrl, t);
  if (disk.problem) throw new UserError(msg('restore:errors.disk', { detail: disk.problem }));
  lines.push(t('restore:result.checked', { files: row.manifest.files.length }), disk.line);

  // 2–3. Beside the live database, which keeps serving; then every table's rows against the manifest.
  await ctx.progress(t('restore:step.side', { side: p.side }));
  let swapped = false;
  try {
    const restored = await restoreInto(ctx, row, p.side, markText({ kind: 'side', request: ctx.requestId, backup: row.id }));
    if (restored.problems.length) {
      throw new UserError(msg('restore:errors.counts', { count: restored.problems.length, first: restored.problems[0] }));
    }
    lines.push(t('restore:result.counts_ok', { tables: restored.counts.length, rows: restored.counts.reduce((n, x) => n + (x.rows ?? 0), 0) }));

    // 4. The swap window: writers stopped, sessions ended, names swapped in one transaction.
    await ctx.progress(t('restore:step.swap', { services: list.map((w) => w.service), database: p.database, before: p.before }));
    const t0 = Date.now();
    await stopWriters(ctx, list);
    const until = new Date(Date.now() + ctx.config.restore.keep_previous).toISOString();
    try {
      await withClient(admin, async (c) => {
        await swapDatabases(c, p.database, p.before, p.side);
        swapped = true;
        await c.query(`comment on database ${ident(p.before)} is ${pg.escapeLiteral(markText({ kind: 'before', request: ctx.requestId, until }))}`);
        await c.query(`comment on database ${ident(p.database)} is ${pg.escapeLiteral(markText({ kind: 'live', request: ctx.requestId, backup: row.id }))}`);
      });
    } finally {
      // 5. Writers back, whether or not the swap happened.
      await ctx.progress(t('restore:step.start', { services: list.map((w) => w.service) }));
      const notReady = await startWriters(ctx, list);
      const downtime = Date.now() - t0;
      lines.push(t('restore:result.downtime', { ms: downtime }));
      if (notReady.length) {
        warn = true;
        lines.push(t('restore:result.not_ready', { services: notReady }));
      }
    }
    lines.push(t('restore:result.kept', { before: p.before, at: Date.parse(until) }), t('restore:result.undo', { id: ctx.requestId }));
    return {
      // i18n-exempt: the command line, the same in every language
      title: `/restore ${row.id}`,
      status: warn ? 'warn' : 'ok',
      summary: t('restore:result.done', { id: row.id, database: p.database }),
      sections: [{ title: t('restore:result.details'), lines: lines.filter(Boolean) }],
    };
  } catch (err) {
    if (!swapped) {
      // The live database was never touched; the side copy goes.
      await withClient(admin, (c) => dropDatabase(c, p.side)).catch((e: unknown) => ctx.log.warn({ err: errorMessage(e) }, 'could not drop the side database'));
    }
    throw err;
  }
}

/** /restore undo: the database a restore replaced becomes live again; the restored one is kept as _undone_. */
export async function runUndo(ctx: ExecContext, p: { target: string; database: string; before: string; undone: string; restoreRequest: string }): Promise<Report> {
  const { t } = ctx;
  const admin = withDatabase(ctx.config.targets.postgres[p.target].url, 'postgres');
  const list = writers(ctx.config);
  await ctx.progress(t('restore:step.undo_check', { before: p.before }));
  const found = await withClient(admin, (c) => databases(c, p.database));
  if (!found.some((d) => d.name === p.before)) throw new UserError(msg('restore:errors.no_before', { before: p.before }));
  await ctx.progress(t('restore:step.swap', { services: list.map((w) => w.service), database: p.database, before: p.undone }));
  const t0 = Date.now();
  await stopWriters(ctx, list);
  const until = new Date(Date.now() + ctx.config.restore.keep_previous).toISOString();
  const lines: string[] = [];
  try {
    await withClient(admin, async (c) => {
      await swapDatabases(c, p.database, p.undone, p.before);
      await c.query(`comment on database ${ident(p.undone)} is ${pg.escapeLiteral(markText({ kind: 'undone', request: ctx.requestId, until }))}`);
      await c.query(`comment on database ${ident(p.database)} is null`);
    });
  } finally {
    await ctx.progress(t('restore:step.start', { services: list.map((w) => w.service) }));
    const notReady = await startWriters(ctx, list);
    lines.push(t('restore:result.downtime', { ms: Date.now() - t0 }));
    if (notReady.length) lines.push(t('restore:result.not_ready', { services: notReady }));
  }
  lines.push(t('restore:result.kept', { before: p.undone, at: Date.parse(until) }));
  // i18n-exempt: the command line, the same in every language
  return { title: `/restore undo ${p.restoreRequest}`, status: 'ok', summary: t('restore:result.undone', { database: p.database, id: p.restoreRequest }), sections: [{ title: t('restore:result.details'), lines }] };
}

/** The databases of a target that a restore concerns, with their marks, for whereNow and /restore status. */
export async function restoreState(config: Config, target: string): Promise<Array<DatabaseInfo & { mark?: Mark }>> {
  const url = config.targets.postgres[target].url;
  const live = splitUrl(url).database;
  const all = await withClient(withDatabase(url, 'postgres'), (c) => databases(c, live), { statementTimeoutMs: 10_000 });
  return all.filter((d) => d.name === live || /_(restore|before|undone|verify)_\d{8}t\d{6}$/.test(d.name)).map((d) => ({ ...d, mark: readMark(d.comment) }));
}

/**
 * After an interruption: which database holds what, which writers are stopped, and what to run.
 * Read-only; it never repairs.
 */
export async function whereRestoreIs(ctx: { t: T; config: Config; targets: Targets; requestId: string }, p: { target: string; database: string; before: string; side?: string; undone?: string }): Promise<{ summary: string; lines: string[] }> {
  const { t } = ctx;
  const dbs = await restoreState(ctx.config, p.target);
  const names = new Set(dbs.map((d) => d.name));
  const live = dbs.find((d) => d.name === p.database);
  const lines: string[] = [];
  let summary: string;
  if (!live) summary = t('restore:where.no_live', { database: p.database, others: [...names].join(', ') || '—' });
  else if (live.mark?.kind === 'live' && live.mark.request === ctx.requestId) {
    summary = t('restore:where.swapped', { database: p.database, before: p.before });
    lines.push(t('restore:where.undo_hint', { id: ctx.requestId }));
  } else if (p.undone && names.has(p.undone)) {
    summary = t('restore:where.undone', { database: p.database, undone: p.undone });
  } else {
    summary = t('restore:where.untouched', { database: p.database });
    if (p.side && names.has(p.side)) lines.push(t('restore:where.side_left', { side: p.side }));
  }
  // Writers a swap stopped and nobody started again.
  for (const w of ctx.config.restore.stop_services) {
    const s = ctx.config.services[w];
    const docker = s?.docker ? ctx.targets.docker.get(s.docker) : undefined;
    const c = docker && s?.container ? await docker.inspect(s.container).catch(() => null) : null;
    if (c && c.state !== 'running') lines.push(t('restore:where.service_stopped', { service: w, state: c.state }));
  }
  return { summary, lines };
}

/**
 * The cleanup schedule: replaced databases past their `until`, and side or scratch databases of
 * runs that are over (interrupted), are dropped. A database without our mark is never touched.
 */
export async function cleanupRestores(config: Config, store: Store, log: Logger): Promise<void> {
  for (const target of Object.keys(config.backups.postgres)) {
    if (!config.targets.postgres[target]) continue;
    const dbs = await restoreState(config, target).catch((err: unknown) => {
      log.warn({ target, err: errorMessage(err) }, 'restore cleanup could not list databases');
      return [];
    });
    for (const d of dbs) {
      const m = d.mark;
      if (!m || m.kind === 'live') continue;
      let drop = false;
      if (m.kind === 'before' || m.kind === 'undone') drop = !!m.until && Date.parse(m.until) < Date.now();
      else {
        const [r] = await store.query<{ state: string }>('select state from approval_requests where id = $1', [m.request]);
        drop = !r || !['approved', 'running'].includes(r.state);
      }
      if (!drop) continue;
      await withClient(withDatabase(config.targets.postgres[target].url, 'postgres'), (c) => dropDatabase(c, d.name))
        .then(() => log.info({ target, database: d.name, kind: m.kind }, 'restore cleanup dropped a database'))
        .catch((err: unknown) => log.warn({ target, database: d.name, err: errorMessage(err) }, 'restore cleanup could not drop a database'));
    }
  }
}

