/**
 * What verify and restore share: the backup's files checked against its manifest, a restore
 * into a database of its own, and that database's rows compared with the manifest's counts.
 */
import type { ExecContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import type { T } from '../i18n/index.ts';
import { msg } from '../i18n/index.ts';
import type { HostExecutor } from '../targets/types.ts';
import { checksums, failed, pgTools } from './dump.ts';
import { connect, countRows, createDatabaseLike, databases, listTables, serverInfo, splitUrl, withClient, withDatabase } from './pg.ts';
import type { BackupRow, Manifest, TableCount } from './store.ts';
import { backupHost, dumpUrl, pgBackupConfig } from './where.ts';

/** A complete PostgreSQL backup by id, or "latest" (of a target when given). */
export async function findBackup(store: { get(id: string): Promise<BackupRow | undefined>; latest(o: { kind?: 'postgres'; target?: string; mode?: string }): Promise<BackupRow | undefined> }, ref: string, target?: string): Promise<BackupRow & { manifest: Manifest }> {
  const row = ref === 'latest' ? await store.latest({ kind: 'postgres', target }) : await store.get(ref);
  if (!row) throw new UserError(ref === 'latest' ? msg('backup:errors.no_backups', { target: target ?? '*' }) : msg('backup:errors.unknown_backup', { id: ref }));
  if (row.state !== 'ok' || !row.manifest) throw new UserError(msg('backup:errors.not_complete', { id: row.id, state: row.state }));
  return row as BackupRow & { manifest: Manifest };
}

/** Differences between the manifest's files and the files on disk now; empty when they match. */
export async function checksumProblems(host: HostExecutor, m: Manifest, t: T, signal?: AbortSignal): Promise<string[]> {
  const now = new Map((await checksums(host, m.path, signal)).map((f) => [f.name, f]));
  const problems: string[] = [];
  for (const f of m.files) {
    const seen = now.get(f.name);
    if (!seen) problems.push(t('backup:check.missing_file', { name: f.name }));
    else if (seen.sha256 !== f.sha256) problems.push(t('backup:check.bad_checksum', { name: f.name, bytes: seen.bytes }));
    now.delete(f.name);
  }
  for (const name of now.keys()) problems.push(t('backup:check.extra_file', { name }));
  return problems;
}

/** Row counts that differ from the manifest (and tables missing or extra); empty when they match. */
export function countProblems(expected: TableCount[], actual: TableCount[], t: T): string[] {
  const key = (x: { schema: string; name: string }) => `${x.schema}.${x.name}`;
  const got = new Map(actual.map((x) => [key(x), x.rows]));
  const problems: string[] = [];
  for (const e of expected) {
    if (!got.has(key(e))) problems.push(t('backup:check.missing_table', { table: key(e) }));
    else if (e.rows !== null && got.get(key(e)) !== e.rows) problems.push(t('backup:check.rows_differ', { table: key(e), expected: e.rows, actual: got.get(key(e)) }));
    got.delete(key(e));
  }
  for (const k of got.keys()) problems.push(t('backup:check.extra_table', { table: k }));
  return problems;
}

export interface Restored {
  counts: TableCount[];
  problems: string[];
}

/**
 * Creates `name` like the live database (owner, encoding, locale), restores the backup into it
 * with pg_restore -j on the dump machine, and counts its rows. The live database is not touched.
 * `comment` marks the new database as ours (restore cleanup reads it).
 */
export async function restoreInto(ctx: ExecContext, row: BackupRow & { manifest: Manifest }, name: string, comment: string): Promise<Restored> {
  const { t } = ctx;
  const m = row.manifest;
  const cfg = pgBackupConfig(ctx.config, m.target);
  const host = backupHost(ctx.targets, row.run_on);
  const liveUrl = ctx.config.targets.postgres[m.target].url;
  const live = splitUrl(liveUrl).database;
  const admin = withDatabase(liveUrl, 'postgres');
  const info = await withClient(liveUrl, (c) => serverInfo(c));
  const tools = await pgTools(host, info.major, info.version);
  await withClient(admin, async (c) => {
    const [like] = (await databases(c, live)).filter((d) => d.name === live);
    if (!like) throw new UserError(msg('backup:errors.no_database', { database: live }));
    await createDatabaseLike(c, name, like, comment);
  });
  const remote = splitUrl(dumpUrl(ctx.config, m.target), name);
  const password = remote.password || splitUrl(liveUrl).password;
  const r = await host.run('pgRestore', [tools.bin, remote.url, m.path, cfg.jobs], {
    timeoutMs: cfg.timeout, maxBytes: 64 * 1024, stdin: `${password}\n`, signal: ctx.signal,
  });
  if (r.code !== 0) throw failed('pg_restore', r);
  ctx.status(t('backup:progress.counting'));
  const c = await connect(withDatabase(liveUrl, name));
  try {
    const counts = await countRows(c, await listTables(c), ctx.signal);
    return { counts, problems: countProblems(m.tables, counts, t) };
  } finally {
    await c.end().catch(() => {});
  }
}
