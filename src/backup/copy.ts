/**
 * Off-host copies of backups (backups.postgres.<t>.copy_to). The backup directory goes from the
 * dump machine to the copy host as a tar stream between two child processes (tar | ssh), so its
 * bytes never pass through the bot. OpenSSH is held to the pinned host key: the host's keys are
 * scanned, only the one whose fingerprint is pinned is written to a private known_hosts, and ssh
 * runs with StrictHostKeyChecking=yes against it and nothing of the machine's own ~/.ssh. The copy
 * lands in "<dir>/<id>.part", is checked against the manifest's sha256s over the SSH executor, and
 * only then is renamed to "<dir>/<id>".
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { AbortedError } from '../targets/errors.ts';
import { commandLine } from '../targets/quote.ts';
import { sshFingerprint, type HostConfig } from '../targets/ssh.ts';
import { OutputCap } from '../targets/templates.ts';
import type { HostExecutor } from '../targets/types.ts';
import { copyTemplates } from './copy-templates.ts';
import type { BackupCopy, Manifest } from './store.ts';
import { whileRunning } from './progress.ts';

export interface CopyRequest {
  /** Where the backup was made (run_on). */
  runOn: string;
  /** The backup's directory there. */
  dir: string;
  id: string;
  copyTo: { host: string; dir: string };
}

/** The name the scanned key is filed under in our known_hosts, whatever address and port the host has. */
const ALIAS = 'opsbot-copy-host';
const DEFAULT_TIMEOUT_MS = 6 * 3_600_000;

/**
 * tar of the backup directory ($1) into the ssh command that follows ("$@"). A constant script:
 * every value is a positional parameter. pipefail: a tar that fails is a failed copy even when
 * the remote side exits 0 on what it got.
 */
const SEND = 'set -o pipefail; d=$1; shift; tar -C "$d" -cf - . | "$@"';

class CopyFailed extends UserError {}
const fail = (key: string, params?: Record<string, unknown>): never => {
  throw new CopyFailed(msg(`backup:copy.${key}`, params));
};

/** Copies one backup directory to copy_to.host:copy_to.dir/<id>; never throws: a failed copy is a result. */
export async function copyBackup(ctx: ExecContext, req: CopyRequest): Promise<BackupCopy> {
  const { host, dir: root } = req.copyTo;
  const path = `${root === '/' ? '' : root}/${req.id}`;
  try {
    await copy(ctx, req);
    return { host, path, at: new Date().toISOString(), ok: true };
  } catch (err) {
    const stopped = err instanceof AbortedError || ctx.signal.aborted;
    const error = stopped ? ctx.t('backup:copy.stopped') : err instanceof UserError ? ctx.t.text(err.text) : errorMessage(err);
    if (!(err instanceof CopyFailed) && !stopped) ctx.log.warn({ err, id: req.id, host }, 'backup copy failed');
    return { host, path, at: new Date().toISOString(), ok: false, error };
  }
}

async function copy(ctx: ExecContext, req: CopyRequest): Promise<void> {
  const { id, copyTo } = req;
  if (req.runOn !== 'local') fail('run_on', { runOn: req.runOn });
  const cfg = ctx.config.targets.hosts[copyTo.host];
  const remote = ctx.targets.hosts.get(copyTo.host);
  if (!cfg || !remote) return fail('no_host', { host: copyTo.host });
  if (ctx.signal.aborted) throw new AbortedError();

  const manifestPath = join(req.dir, 'manifest.json');
  const manifestText = await readFile(manifestPath, 'utf8').catch((err: NodeJS.ErrnoException) => fail('manifest', { path: manifestPath, detail: err.code ?? err.message }));
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestText) as Manifest;
  } catch (err) {
    return fail('manifest', { path: manifestPath, detail: errorMessage(err) });
  }

  const timeoutMs = timeoutFor(ctx, req);
  // Private to the bot's user (mkdtemp makes it 0700): the known_hosts and the key live here.
  const tmp = await mkdtemp(join(tmpdir(), 'opsbot-copy-'));
  let started = false;
  try {
    const knownHosts = join(tmp, 'known_hosts');
    await writeFile(knownHosts, `${ALIAS} ${await pinnedKey(ctx, copyTo.host, cfg)}\n`, { mode: 0o600 });
    const keyFile = join(tmp, 'id');
    await writeFile(keyFile, await privateKey(copyTo.host, cfg), { mode: 0o600 });

    await step(remote, 'mkdir', 'mkdirPrivate', [copyTo.dir]);
    await step(remote, 'rm', 'removePart', [copyTo.dir, id]);
    started = true;
    const receive = commandLine(['timeout', '-s', 'KILL', String(Math.ceil(timeoutMs / 1000) + 60), ...copyTemplates.receiveTar(copyTo.dir, id)]);
    const ssh = ['ssh', ...sshOptions(cfg, knownHosts, keyFile), '--', cfg.address, receive];
    await watch(ctx, remote, partPath(copyTo.dir, id), manifest.size_bytes, send(req.dir, ssh, timeoutMs, ctx.signal));

    await verify(remote, partPath(copyTo.dir, id), manifest, manifestText, ctx.signal);
    await step(remote, 'mv', 'finishCopy', [copyTo.dir, id]);
    started = false;
  } finally {
    // Nothing half-made stays on the copy host; the Stop that ended the copy does not stop this.
    if (started) await remote.run('removePart', [copyTo.dir, id], { timeoutMs: 120_000 }).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

const partPath = (root: string, id: string) => `${root === '/' ? '' : root}/${id}.part`;

/** The target's backup timeout (the id starts with the target's name), else six hours. */
function timeoutFor(ctx: ExecContext, req: CopyRequest): number {
  const entry = Object.entries(ctx.config.backups.postgres).find(([target, c]) => req.id.startsWith(`${target}-`) && c.copy_to?.host === req.copyTo.host);
  return entry?.[1].timeout ?? DEFAULT_TIMEOUT_MS;
}

async function step(host: HostExecutor, what: string, template: 'mkdirPrivate' | 'removePart' | 'finishCopy', args: [string] | [string, string]): Promise<void> {
  const r = await host.run(template, args as never, { timeoutMs: 120_000 });
  if (r.code !== 0) fail('step', { what, host: host.name, detail: r.stderr.trim().split('\n').slice(-2).join(' / ') || `exit ${r.code}` });
}

/** "type base64" of the host's key whose fingerprint is the pinned one; a host with none of it is refused. */
async function pinnedKey(ctx: ExecContext, name: string, cfg: HostConfig): Promise<string> {
  const where = `${cfg.address}:${cfg.port}`;
  const pinned = cfg.hostKey.replace(/=+$/, '');
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile('ssh-keyscan', ['-p', String(cfg.port), '-T', '15', '-t', 'ed25519,ecdsa,rsa', '--', cfg.address], { timeout: 60_000, signal: ctx.signal, maxBuffer: 1 << 20 }, (err, out, errOut) => {
      resolve({ stdout: String(out ?? ''), stderr: String(errOut ?? '') || (err ? errorMessage(err) : '') });
    });
  });
  if (ctx.signal.aborted) throw new AbortedError();
  const keys = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 3 && !f[0].startsWith('#') && /^[A-Za-z0-9+/]+=*$/.test(f[2]));
  if (!keys.length) fail('keyscan', { host: name, where, detail: stderr.split('\n').filter((l) => l && !l.startsWith('#')).slice(-2).join(' / ') || '-' });
  const match = keys.find((f) => sshFingerprint(Buffer.from(f[2], 'base64')) === pinned);
  if (!match) return fail('host_key', { host: name, where, expected: pinned, actual: keys.map((f) => sshFingerprint(Buffer.from(f[2], 'base64'))) });
  return `${match[1]} ${match[2]}`;
}

async function privateKey(name: string, cfg: HostConfig): Promise<string> {
  if (cfg.privateKey) return cfg.privateKey.endsWith('\n') ? cfg.privateKey : `${cfg.privateKey}\n`;
  try {
    // Copied to our own 0600 file: ssh refuses a key file others can read, and the bot's SSH
    // executor (which reads the same file) does not.
    const text = await readFile(cfg.privateKeyFile!, 'utf8');
    return text.endsWith('\n') ? text : `${text}\n`;
  } catch (err) {
    return fail('key', { host: name, file: cfg.privateKeyFile, detail: (err as NodeJS.ErrnoException).code ?? errorMessage(err) });
  }
}

/** OpenSSH with nothing of the machine's config, agent or known hosts: only what is passed here. */
function sshOptions(cfg: HostConfig, knownHosts: string, keyFile: string): string[] {
  const o = (kv: string) => ['-o', kv];
  return [
    '-F', '/dev/null', '-T', '-x', '-a',
    ...o('BatchMode=yes'), ...o('StrictHostKeyChecking=yes'), ...o(`UserKnownHostsFile="${knownHosts}"`), ...o('GlobalKnownHostsFile=/dev/null'),
    ...o(`HostKeyAlias=${ALIAS}`), ...o('CheckHostIP=no'), ...o('UpdateHostKeys=no'),
    ...o('IdentitiesOnly=yes'), ...o('IdentityAgent=none'), '-i', keyFile,
    ...o('PasswordAuthentication=no'), ...o('KbdInteractiveAuthentication=no'), ...o('ControlMaster=no'), ...o('ControlPath=none'),
    ...o('ClearAllForwardings=yes'), ...o('ConnectTimeout=30'), ...o('ServerAliveInterval=15'), ...o('ServerAliveCountMax=4'), ...o('LogLevel=ERROR'),
    '-p', String(cfg.port), '-l', cfg.user,
  ];
}

/** Runs tar | ssh in its own process group; Stop and the timeout kill all of it. */
function send(dir: string, ssh: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', SEND, 'opsbot-copy', dir, ...ssh], { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, LC_ALL: 'C' } });
    const stderr = OutputCap.forStderr();
    child.stderr!.on('data', (c: Buffer) => stderr.push(c));
    let why: 'stopped' | 'timeout' | undefined;
    const kill = (reason: 'stopped' | 'timeout') => {
      why ??= reason;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onAbort = () => kill('stopped');
    const timer = setTimeout(() => kill('timeout'), timeoutMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      reject(new CopyFailed(msg('backup:copy.transfer', { detail: errorMessage(err) })));
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (why === 'stopped') return reject(new AbortedError());
      if (why === 'timeout') return reject(new CopyFailed(msg('backup:copy.timed_out', { ms: timeoutMs })));
      if (code === 0) return resolve();
      const detail = stderr.text().trim().split('\n').slice(-3).join(' / ') || (sig ? `signal ${sig}` : `exit ${code}`);
      reject(new CopyFailed(msg('backup:copy.transfer', { detail })));
    });
  });
}

/** Shows the bytes received so far on the card while the transfer runs. */
async function watch(ctx: ExecContext, remote: HostExecutor, part: string, total: number, work: Promise<void>): Promise<void> {
  await whileRunning(work, 3000, async () => {
    const r = await remote.run('dirStats', [part], { timeoutMs: 10_000 });
    const bytes = Number(r.stdout.trim().split('\n')[0]);
    if (r.code === 0 && Number.isFinite(bytes)) ctx.status(ctx.t('backup:copy.progress', { bytes, total }));
  });
}

/** The copy's sha256s against the manifest's, file for file, and its manifest.json against ours. */
async function verify(remote: HostExecutor, part: string, manifest: Manifest, manifestText: string, signal: AbortSignal): Promise<void> {
  const [sums, copied] = await Promise.all([
    remote.run('sha256Files', [part], { timeoutMs: 3_600_000, maxBytes: 16 << 20, signal }),
    remote.run('readText', [`${part}/manifest.json`], { timeoutMs: 60_000, maxBytes: 64 << 20, signal }),
  ]);
  if (sums.code !== 0) fail('step', { what: 'sha256sum', host: remote.name, detail: sums.stderr.trim().split('\n').slice(-2).join(' / ') || `exit ${sums.code}` });
  const got = new Map<string, string>();
  for (const line of sums.stdout.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *]\.\/(.+)$/.exec(line);
    if (m) got.set(m[2], m[1]);
  }
  const bad: string[] = [];
  for (const f of manifest.files) if (got.get(f.name) !== f.sha256) bad.push(f.name);
  const expected = new Set(manifest.files.map((f) => f.name));
  for (const name of got.keys()) if (!expected.has(name)) bad.push(name);
  if (copied.code !== 0 || copied.stdout !== manifestText) bad.push('manifest.json');
  if (bad.length) fail('mismatch', { count: bad.length, files: bad.slice(0, 5) });
}
