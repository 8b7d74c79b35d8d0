/**
 * /backup files (manual §2.3, done better): a host's config, uploads and keys archived there, in
 * one directory per backup. Paths whose last component is listed in `encrypt` (the keys) go
 * through tar | gzip | gpg into encrypted.tar.gz.gpg, so no plaintext archive of them is ever
 * written; the rest go into plain.tar.gz. Then a sha256 of each archive and a manifest, beside the
 * backup and in the state store. A missing path is an error before anything is made, never a
 * silently partial archive; a failed or stopped run leaves no directory behind.
 */
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import { defineCommand, type ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { didYouMean } from '../core/suggest.ts';
import { msg, type Msg } from '../i18n/index.ts';
import type { Plan } from '../approvals/plan.ts';
import type { HostExecutor, RunResult } from '../targets/types.ts';
import { AbortedError } from '../targets/errors.ts';
import { backupsFor } from './index.ts';
import { checksums, writeTextOn } from './dump.ts';
import { whileRunning } from './progress.ts';
import { backupId } from './ids.ts';
import type { BackupStore, Manifest } from './store.ts';
import { backupHost } from './where.ts';
import { ENCRYPTED_ARCHIVE, PLAIN_ARCHIVE } from './files-templates.ts';

export type FilesBackupConfig = Config['backups']['files'][string];

const USAGE = [{ syntax: '/backup files [name]', note: 'backup:usage.files' }];

/** The last component of a path: what `encrypt` names. */
const lastComponent = (path: string) => path.replace(/\/+$/, '').split('/').pop() ?? '';

/** A backups.files name: the one given, or the only one configured. */
export function pickFilesSet(config: Config, given: string | undefined): string {
  const known = Object.keys(config.backups.files);
  if (!known.length) throw new UserError(msg('files:errors.none_configured'));
  if (given === undefined) {
    if (known.length === 1) return known[0];
    throw new UserError(msg('files:errors.which', { known }), { usage: USAGE });
  }
  if (!known.includes(given)) {
    const guess = didYouMean(given, known);
    throw new UserError(msg('files:errors.unknown', { name: given, known }), { hint: guess && `/backup files ${guess}`, usage: USAGE });
  }
  return given;
}

/**
 * The paths split by `encrypt`. Refused: an `encrypt` entry that names no path (a typo would put
 * the keys in the plain archive), and a plain path holding an encrypted one (the same).
 */
export function splitPaths(name: string, cfg: FilesBackupConfig): { plain: string[]; encrypted: string[] } {
  const encrypted = cfg.paths.filter((p) => cfg.encrypt.includes(lastComponent(p)));
  const plain = cfg.paths.filter((p) => !encrypted.includes(p));
  const unmatched = cfg.encrypt.filter((e) => !cfg.paths.some((p) => lastComponent(p) === e));
  if (unmatched.length) throw new UserError(msg('files:errors.encrypt_unmatched', { name, names: unmatched }));
  for (const p of plain) {
    const inside = encrypted.find((e) => p === '/' || e.startsWith(`${p}/`));
    if (inside) throw new UserError(msg('files:errors.encrypt_inside', { name, path: p, inside }));
  }
  return { plain, encrypted };
}

const runOn = (host: string) => (host === 'local' ? 'local' : `host:${host}`);

/** A template's failure as one line: its stderr's last words, or its exit code. */
function failed(what: string, r: RunResult): UserError {
  const tail = r.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${r.code}`;
  return new UserError(msg('files:errors.step_failed', { what, detail: tail }));
}

/** The check's findings as messages: every missing path at once, not one per run. */
function problems(stdout: string, where: string): Msg[] {
  const found: Record<string, string[]> = {};
  for (const line of stdout.split('\n')) {
    const [kind, value = ''] = line.split('\t');
    if (kind) (found[kind] ??= []).push(value);
  }
  const out: Msg[] = [];
  if (found.missing) out.push(msg('files:errors.missing', { count: found.missing.length, paths: found.missing, where }));
  if (found.unreadable) out.push(msg('files:errors.unreadable', { count: found.unreadable.length, paths: found.unreadable, where }));
  if (found.passphrase) out.push(msg('files:errors.passphrase', { file: found.passphrase[0], where }));
  if (found.no_gpg) out.push(msg('files:errors.no_program', { program: 'gpg', where }));
  if (found.no_tar) out.push(msg('files:errors.no_program', { program: 'tar', where }));
  return out;
}

/** Shows the bytes written so far on the card while `work` runs. */
function watch<R>(ctx: ExecContext, host: HostExecutor, dir: string, work: Promise<R>): Promise<R> {
  return whileRunning(work, 2000, async () => {
    const r = await host.run('dirStats', [dir], { timeoutMs: 10_000 });
    const bytes = Number(r.stdout.trim().split('\n')[0]);
    if (r.code === 0 && Number.isFinite(bytes)) ctx.status(ctx.t('files:progress.written', { bytes }));
  });
}

/** Runs one files backup to completion, or removes what it made. */
export async function archiveFiles(ctx: ExecContext, store: BackupStore, name: string): Promise<Manifest> {
  const { t } = ctx;
  const cfg = ctx.config.backups.files[name];
  if (!cfg) throw new UserError(msg('files:errors.unknown', { name, known: Object.keys(ctx.config.backups.files) }));
  const { plain, encrypted } = splitPaths(name, cfg);
  const where = runOn(cfg.host);
  const host = backupHost(ctx.targets, where);
  let started = new Date();
  let id = '';
  let dir = '';
  const passphrase = encrypted.length ? cfg.passphrase_file! : '';

  await ctx.progress(t('files:step.check', { count: cfg.paths.length, where: host.where }));
  const check = await host.run('filesCheck', [passphrase, cfg.paths], { timeoutMs: 60_000, signal: ctx.signal }).catch((err: unknown) => {
    throw err instanceof AbortedError ? new UserError(msg('files:errors.stopped_early')) : err;
  });
  if (check.code !== 0) {
    const found = problems(check.stdout, host.where);
    if (!found.length) throw failed('check', check);
    throw new UserError(found.length === 1 ? found[0] : msg('files:errors.several', { problems: found.map((m) => t.text(m)).join(' ') }));
  }

  let registered = false;
  try {
    ({ id, path: dir, started } = await store.begin((at) => {
      const made = backupId(name, at, 'files');
      return { id: made, kind: 'files', target: name, mode: 'files', run_on: where, path: `${cfg.dir}/${made}`, request_id: ctx.requestId };
    }));
    registered = true;
    const mk = await host.run('mkdirPrivate', [dir], { timeoutMs: 20_000, signal: ctx.signal });
    if (mk.code !== 0) throw failed('mkdir', mk);
    // stdin stays open while we wait: its end tells the archive scripts to stop (files-templates.ts).
    const opts = { timeoutMs: cfg.timeout, maxBytes: 64 * 1024, stdin: '', signal: ctx.signal };

    if (plain.length) {
      await ctx.progress(t('files:step.plain', { file: PLAIN_ARCHIVE, paths: plain }));
      const r = await watch(ctx, host, dir, host.run('filesTar', [dir, plain], opts));
      if (r.code !== 0) throw failed('tar', r);
    }
    if (encrypted.length) {
      await ctx.progress(t('files:step.encrypted', { file: ENCRYPTED_ARCHIVE, paths: encrypted }));
      const r = await watch(ctx, host, dir, host.run('filesTarGpg', [dir, passphrase, encrypted], opts));
      if (r.code !== 0) throw failed('tar | gzip | gpg', r);
    }

    await ctx.progress(t('files:step.checksums'));
    const files = await checksums(host, dir, ctx.signal);
    const expected = [...(encrypted.length ? [ENCRYPTED_ARCHIVE] : []), ...(plain.length ? [PLAIN_ARCHIVE] : [])].sort();
    const names = files.map((f) => f.name);
    if (names.join('\n') !== expected.join('\n')) throw new UserError(msg('files:errors.unexpected_files', { files: names, expected }));
    const manifest: Manifest = {
      version: 1, id, kind: 'files', target: name, database: '', server_version: '', pg_dump_version: '',
      format: 'tar', compression: 'gzip', mode: 'files', run_on: where, path: dir,
      started_at: started.toISOString(), duration_ms: Date.now() - started.getTime(),
      size_bytes: files.reduce((n, f) => n + f.bytes, 0), files, tables: [],
      paths: cfg.paths, encrypted: encrypted.length > 0,
    };
    const w = await writeTextOn(host, `${dir}/manifest.json`, `${JSON.stringify(manifest, null, 1)}\n`);
    if (w.code !== 0) throw failed('manifest', w);
    await store.succeed(id, manifest);
    return manifest;
  } catch (err) {
    // Nothing half-made is left to be mistaken for a backup: the directory goes, even when the
    // failure came before the row was written.
    const stopped = err instanceof AbortedError || !!ctx.stopped();
    await host.run('removeBackup', [cfg.dir, id], { timeoutMs: 120_000 }).catch(() => undefined);
    if (registered) await store.fail(id, stopped ? 'stopped' : errorMessage(err)).catch(() => {});
    if (err instanceof AbortedError) throw new UserError(msg('files:errors.stopped', { id }));
    throw err;
  }
}

/** The card's result for a finished files backup. */
export function filesReport(ctx: ExecContext, m: Manifest, encrypted: string[], passphraseFile: string | undefined): Report {
  const { t } = ctx;
  const lines = [t('files:result.where', { where: m.run_on, path: m.path })];
  for (const f of m.files) {
    const isEncrypted = f.name === ENCRYPTED_ARCHIVE;
    const paths = (m.paths ?? []).filter((p) => encrypted.includes(p) === isEncrypted);
    lines.push(t(isEncrypted ? 'files:result.encrypted' : 'files:result.plain', { file: f.name, size: f.bytes, sha: f.sha256.slice(0, 16), paths, passphrase: passphraseFile ?? '' }));
  }
  return {
    // i18n-exempt: the command line, the same in every language
    title: `/backup files ${m.target}`,
    status: 'ok',
    summary: t('files:result.done', { id: m.id, size: m.size_bytes, ms: m.duration_ms }),
    sections: [{ title: t('files:result.details'), lines }],
  };
}

function store(config: Config): BackupStore {
  const b = backupsFor(config);
  if (!b) throw new UserError(msg('backup:errors.unavailable'));
  return b.store;
}

export const filesCommand = defineCommand({
  // i18n-exempt: the command's name
  name: 'backup files',
  summary: 'backup:usage.files',
  permission: 'backup',
  usage: USAGE,
  positionals: ['name'],
  job: true,
  cancellable: true,
  args: z.object({ name: z.string().optional() }),
  async plan(ctx): Promise<Plan> {
    const name = pickFilesSet(ctx.config, ctx.args.name);
    const cfg = ctx.config.backups.files[name];
    const { plain, encrypted } = splitPaths(name, cfg);
    store(ctx.config);
    return {
      summary: msg('files:plan.summary', { name, where: runOn(cfg.host), dir: cfg.dir }),
      steps: [
        msg('files:plan.check', { count: cfg.paths.length }),
        ...(plain.length ? [msg('files:plan.plain', { file: PLAIN_ARCHIVE, paths: plain })] : []),
        ...(encrypted.length ? [msg('files:plan.encrypted', { file: ENCRYPTED_ARCHIVE, paths: encrypted, passphrase: cfg.passphrase_file })] : []),
        msg('files:plan.checksums'),
      ],
      risk: 'low',
      target: { lock: `files:${name}`, name },
    };
  },
  async execute(ctx: ExecContext, plan: Plan): Promise<Report> {
    const name = String(plan.target.name);
    const manifest = await archiveFiles(ctx, store(ctx.config), name);
    const cfg = ctx.config.backups.files[name];
    return filesReport(ctx, manifest, splitPaths(name, cfg).encrypted, cfg.passphrase_file);
  },
});
