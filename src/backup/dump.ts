/**
 * /backup for a PostgreSQL target (manual §2.1, done better): pg_dump of the server's own major
 * version, directory format with `jobs` workers and the fastest compression it offers, inside a
 * snapshot the bot counts every table's rows in; then a sha256 of every file and a manifest,
 * beside the backup and in the state store. The data goes from pg_dump to disk on the dump
 * machine and never through the bot.
 */
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { msg } from '../i18n/index.ts';
import type { HostExecutor, RunResult } from '../targets/types.ts';
import { AbortedError } from '../targets/errors.ts';
import { backupId } from './ids.ts';
import { connect, countRows, exportSnapshot, listTables, serverInfo, splitUrl } from './pg.ts';
import type { BackupCopy, BackupStore, Manifest, ManifestFile, TableCount } from './store.ts';
import { copyBackup } from './copy.ts';
import { whileRunning } from './progress.ts';
import { backupHost, dumpUrl, pgBackupConfig } from './where.ts';

export type DumpMode = 'full' | 'data-only' | 'schema-only';

/** A template's failure as one line: its stderr's last words, or its exit code. */
export function failed(what: string, r: RunResult): UserError {
  const tail = r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`;
  return new UserError(msg('backup:errors.step_failed', { what, detail: tail }));
}

/** pg_dump/pg_restore of the server's major version on the dump machine; an older one is refused. */
export async function pgTools(host: HostExecutor, serverMajor: number, serverVersion: string): Promise<{ bin: string; version: string; major: number }> {
  const r = await host.run('pgTools', [serverMajor], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new UserError(msg('backup:errors.no_pg_dump', { where: host.where, major: serverMajor, detail: r.stderr.trim() }));
  const [bin, line = ''] = r.stdout.trim().split('\n');
  const m = /(\d+)(?:\.(\d+))?/.exec(line);
  const major = m ? Number(m[1]) : 0;
  if (major < serverMajor) {
    throw new UserError(msg('backup:errors.client_too_old', { client: line.trim(), server: serverVersion, where: host.where, major: serverMajor }));
  }
  return { bin, version: line.trim(), major };
}

/** Writes a small text file (a manifest) on the dump machine, atomically, through stdin. */
export function writeTextOn(host: HostExecutor, path: string, text: string): Promise<RunResult> {
  return host.run('writeText', [path, Buffer.byteLength(text)], { timeoutMs: 20_000, stdin: text });
}

/** lz4 from PostgreSQL 16's pg_dump on; gzip at level 1 (its fastest) before that. */
export const fastestCompression = (clientMajor: number) => (clientMajor >= 16 ? 'lz4' : '1');

/** "HASH  ./name" lines with sizes → manifest files, sorted by name. */
export async function checksums(host: HostExecutor, dir: string, signal?: AbortSignal): Promise<ManifestFile[]> {
  const [sums, sizes] = await Promise.all([
    host.run('sha256Files', [dir], { timeoutMs: 3_600_000, maxBytes: 16 << 20, signal }),
    host.run('fileSizes', [dir], { timeoutMs: 600_000, maxBytes: 16 << 20, signal }),
  ]);
  if (sums.code !== 0) throw failed('sha256sum', sums);
  if (sizes.code !== 0) throw failed('find', sizes);
  const bytes = new Map<string, number>();
  for (const line of sizes.stdout.split('\n')) {
    const m = /^(\d+) (.+)$/.exec(line);
    if (m) bytes.set(m[2], Number(m[1]));
  }
  const files: ManifestFile[] = [];
  for (const line of sums.stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(line);
    if (m) files.push({ name: m[2], sha256: m[1], bytes: bytes.get(m[2]) ?? 0 });
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Bytes written and tables done, on the card every 2 s while the dump runs. */
function watch<T>(ctx: ExecContext, host: HostExecutor, dir: string, tables: number, work: Promise<T>): Promise<T> {
  return whileRunning(work, 2000, async () => {
    const r = await host.run('dirStats', [dir], { timeoutMs: 10_000 });
    const [bytes, files] = r.stdout.trim().split('\n').map(Number);
    if (r.code === 0 && Number.isFinite(bytes)) ctx.status(ctx.t('backup:progress.dumping', { bytes, done: Math.min(files || 0, tables), tables }));
  });
}

export interface DumpResult {
  manifest: Manifest;
  copy?: BackupCopy;
}

/**
 * Runs one dump to completion, or removes what it made. `store` rows track it from the start, so
 * /backup list shows a running or failed backup too.
 */
export async function dumpPostgres(ctx: ExecContext, store: BackupStore, target: string, mode: DumpMode, requestId: string): Promise<DumpResult> {
  const { t } = ctx;
  const cfg = pgBackupConfig(ctx.config, target);
  const host = backupHost(ctx.targets, cfg.run_on);
  let started = new Date();
  let id = '';
  let dir = '';

  await ctx.progress(t('backup:step.connect', { target }));
  const bot = splitUrl(ctx.config.targets.postgres[target].url);
  const remote = splitUrl(dumpUrl(ctx.config, target));
  // The snapshot session: repeatable read, exported to pg_dump, and where the rows are counted.
  const session = await connect(ctx.config.targets.postgres[target].url).catch((err: unknown) => {
    throw new UserError(msg('backup:errors.connect', { target, where: `${new URL(bot.url).host}/${bot.database}`, detail: errorMessage(err) }));
  });
  let registered = false;
  try {
    const info = await serverInfo(session);
    const tools = await pgTools(host, info.major, info.version);
    const compression = fastestCompression(tools.major);
    const tableList = await listTables(session);
    const snapshot = await exportSnapshot(session);

    ({ id, path: dir, started } = await store.begin((at) => {
      const made = backupId(target, at, mode);
      return { id: made, kind: 'postgres', target, mode, run_on: cfg.run_on, path: `${cfg.dir}/${made}`, request_id: requestId };
    }));
    registered = true;
    await ctx.progress(t('backup:step.dump', { where: host.where, dir, jobs: cfg.jobs }));
    const mk = await host.run('mkdirPrivate', [dir], { timeoutMs: 20_000 });
    if (mk.code !== 0) throw failed('mkdir', mk);
    const password = remote.password || bot.password;
    const dump = host.run('pgDump', [tools.bin, remote.url, dir, cfg.jobs, compression, mode, snapshot], {
      timeoutMs: cfg.timeout, maxBytes: 64 * 1024, stdin: `${password}\n`, signal: ctx.signal,
    });
    // Counted while pg_dump runs, in the same snapshot; a schema-only dump holds no rows.
    const counting: Promise<TableCount[]> = mode === 'schema-only'
      ? Promise.resolve(tableList.map((x) => ({ ...x, rows: null })))
      : countRows(session, tableList, ctx.signal);
    counting.catch(() => {});
    const r = await watch(ctx, host, dir, tableList.length, dump);
    if (r.code !== 0) throw failed('pg_dump', r);
    const tables = await counting;
    await session.query('commit').catch(() => {});

    await ctx.progress(t('backup:step.checksums'));
    const files = await checksums(host, dir, ctx.signal);
    const manifest: Manifest = {
      version: 1, id, kind: 'postgres', target, database: info.database, server_version: info.version, pg_dump_version: tools.version,
      format: 'directory', compression: compression === '1' ? 'gzip:1' : compression, mode, run_on: cfg.run_on, path: dir,
      started_at: started.toISOString(), duration_ms: Date.now() - started.getTime(),
      size_bytes: files.reduce((n, f) => n + f.bytes, 0), files, tables,
    };
    const w = await writeTextOn(host, `${dir}/manifest.json`, `${JSON.stringify(manifest, null, 1)}\n`);
    if (w.code !== 0) throw failed('manifest', w);
    await store.succeed(id, manifest);
    // The off-host copy: a failed copy leaves a good backup, and the card says so.
    let copy: BackupCopy | undefined;
    if (cfg.copy_to) {
      await ctx.progress(t('backup:step.copy', { host: cfg.copy_to.host, dir: cfg.copy_to.dir }));
      copy = await copyBackup(ctx, { runOn: cfg.run_on, dir, id, copyTo: cfg.copy_to });
      await store.addCopy(id, copy);
    }
    return { manifest, copy };
  } catch (err) {
    // Nothing half-made is left to be mistaken for a backup.
    if (registered) {
      const why = err instanceof AbortedError || ctx.stopped() ? 'stopped' : errorMessage(err);
      await host.run('removeBackup', [cfg.dir, id], { timeoutMs: 120_000 }).catch(() => undefined);
      await store.fail(id, why).catch(() => {});
    }
    if (err instanceof AbortedError) throw new UserError(msg('backup:errors.stopped', { id }));
    throw err;
  } finally {
    await session.end().catch(() => {});
  }
}

/** The card's result for a finished dump. */
export function dumpReport(ctx: ExecContext, m: Manifest, copy?: BackupCopy): Report {
  const { t } = ctx;
  const copyLine = copy ? [copy.ok ? t('backup:result.copied', { host: copy.host, path: copy.path }) : t('backup:result.copy_failed', { host: copy.host, detail: copy.error ?? '' })] : [];
  const rows = m.tables.reduce((n, x) => n + (x.rows ?? 0), 0);
  return {
    // i18n-exempt: the command line, the same in every language
    title: `/backup ${m.target}`,
    status: copy && !copy.ok ? 'warn' : 'ok',
    summary: t('backup:result.done', { id: m.id, size: m.size_bytes, ms: m.duration_ms }),
    sections: [{
      title: t('backup:result.details'),
      lines: [
        t('backup:result.where', { where: m.run_on, path: m.path }),
        t('backup:result.contents', { database: m.database, tables: m.tables.length, rows, mode: t(`backup:mode.${m.mode}`) }),
        t('backup:result.format', { server: m.server_version, client: m.pg_dump_version, compression: m.compression, files: m.files.length }),
        ...copyLine,
      ],
    }],
  };
}
