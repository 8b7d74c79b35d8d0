// A real OpenSSH server for integration tests: its own host key, its own authorized
// client key, a free port, optionally inside its own network namespace so it looks
// like a second machine (see /work/shared/RECIPES.md, "SSH" and "More servers").
//
// Sessions log in as a user of the harness's own: a plain /bin/sh and an empty home. Logging
// in as root would run root's rc files (on these machines `pyenv init`, ~100 ms under a lock)
// in every session, which made every SSH test slow and flaky under load.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaled } from '../helpers/wait.ts';
import { onProcessExit } from './ports.ts';

export interface SshHost {
  /** 127.0.0.1, or the address inside the namespace */
  host: string;
  port: number;
  /** the login user this harness created (never root); removed when the host is removed */
  user: string;
  uid: number;
  /** the user's home: empty but for .ssh, and writable by the user (the temp dir is not) */
  home: string;
  privateKeyPath: string;
  privateKey: string;
  /** exactly the `SHA256:…` that `ssh-keygen -lf host_ed25519.pub` prints */
  hostKeyFingerprint: string;
  dir: string;
  /** kill sshd and wait until the port refuses (with netns: then delete the namespace) */
  stop(): Promise<void>;
  /** start again on the same address and port, with the current host key */
  start(): Promise<void>;
  /** new host key, sshd restarted with it; returns the new fingerprint */
  replaceHostKey(): Promise<string>;
  /** run a command with the system `ssh` client; stdout */
  ssh(...remoteArgs: string[]): Promise<string>;
  /** pids of the processes running as this host's login user: only what its sessions started */
  processes(): number[];
  /** stop, end every session, delete the login user, the namespace and the temp dir */
  remove(): Promise<void>;
}

function run(cmd: string, args: string[], timeoutMs = scaled(30_000)): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Live { child?: ChildProcess; netns?: string; dir: string; user?: string; uid?: number; port?: number }

/** Pids whose real uid is `uid`, read from /proc. */
function pidsOfUid(uid: number): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m && Number(m[1]) === uid) found.push(Number(pid));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Synchronous, so that it also runs from the exit hook. */
function removeSync(h: Live): void {
  h.child?.kill('SIGKILL');
  h.child = undefined;
  if (h.port !== undefined) try { dropSessions({ port: h.port }); } catch { /* ss missing or nothing open */ }
  if (h.uid !== undefined) killAll(pidsOfUid(h.uid));
  if (h.user) {
    // -f: a session process that is still exiting must not keep the account alive.
    try { execFileSync('userdel', ['-f', '-r', h.user], { stdio: 'ignore' }); } catch { /* removed already */ }
    h.user = undefined;
  }
  if (h.netns) {
    try { execFileSync('ip', ['netns', 'delete', h.netns], { stdio: 'ignore' }); } catch { /* best effort */ }
    unmountNetnsDir();
  }
  h.netns = undefined;
  rmSync(h.dir, { recursive: true, force: true });
}

// Everything still alive at process exit (or on SIGINT/SIGTERM) is removed, login users included.
const live = new Set<Live>();
onProcessExit(() => {
  for (const h of live) removeSync(h);
  live.clear();
});

const USER_PREFIX = 'opsbot-t';

/** Login users left by test processes that died by SIGKILL (where no exit hook runs). */
function removeStaleUsers(): void {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return;
  }
  for (const m of passwd.matchAll(new RegExp(`^(${USER_PREFIX}(\\d+)-\\d+):[^:]*:(\\d+):`, 'gm'))) {
    const owner = Number(m[2]);
    try {
      process.kill(owner, 0);
      continue; // its test process is still running
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    killAll(pidsOfUid(Number(m[3])));
    try { execFileSync('userdel', ['-f', '-r', m[1]], { stdio: 'ignore' }); } catch { /* another run got there first */ }
  }
}

/**
 * useradd/userdel take a lock on /etc/passwd and give up at once when another test file holds
 * it ("cannot lock /etc/passwd; try again later", exit 10), so retry for a while.
 */
async function withPasswdLock(cmd: string, args: string[]): Promise<string> {
  const deadline = Date.now() + scaled(30_000);
  for (;;) {
    try {
      return await run(cmd, args);
    } catch (err) {
      const msg = (err as Error).message;
      if (!/lock|try again/i.test(msg) || Date.now() > deadline) throw err;
      await sleep(50 + Math.random() * 200);
    }
  }
}

/** The login user: /bin/sh, no password but not locked ('*'), an empty home with the client key. */
async function createUser(name: string, dir: string, pubKey: string): Promise<{ uid: number; home: string }> {
  const home = join(dir, 'home');
  const skel = join(dir, 'skel'); // empty: none of /etc/skel's rc files
  await mkdir(skel);
  await withPasswdLock('useradd', ['-m', '-d', home, '-k', skel, '-s', '/bin/sh', '-p', '*', '-U', name]);
  await rm(skel, { recursive: true, force: true });
  await run('install', ['-d', '-m', '700', '-o', name, '-g', name, join(home, '.ssh')]);
  await run('install', ['-m', '600', '-o', name, '-g', name, pubKey, join(home, '.ssh', 'authorized_keys')]);
  const uid = Number((await run('id', ['-u', name])).trim());
  return { uid, home };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** 'banner' when an SSH greeting arrives, 'refused' on ECONNREFUSED, 'other' otherwise. */
function probe(host: string, port: number): Promise<'banner' | 'refused' | 'other'> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: 'banner' | 'refused' | 'other') => { sock.destroy(); resolve(r); };
    sock.setTimeout(scaled(1000), () => done('other'));
    sock.once('data', (d) => done(d.toString().startsWith('SSH-') ? 'banner' : 'other'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'other'));
    sock.once('close', () => done('other'));
  });
}

async function waitFor(
  host: string, port: number, want: 'banner' | 'refused',
  log: () => Promise<string>, died: () => boolean = () => false,
): Promise<void> {
  const limit = scaled(15_000);
  const deadline = Date.now() + limit;
  while ((await probe(host, port)) !== want) {
    // A child that already exited will never answer; fail now, with its log.
    const why = died() ? 'sshd exited' : Date.now() > deadline ? `no ${want} after ${limit} ms` : '';
    if (why) throw new Error(`sshd at ${host}:${port}: ${why}\n${await log()}`);
    await sleep(50);
  }
}

async function fingerprint(pubPath: string): Promise<string> {
  // "256 SHA256:abc… comment (ED25519)"
  return (await run('ssh-keygen', ['-lf', pubPath])).split(' ')[1];
}

async function keygen(path: string): Promise<void> {
  // ssh-keygen asks before overwriting, so clear the old pair first.
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
}

/** A namespace with a veth pair in a private /30; returns the inside address. */
async function makeNetns(ns: string, subnet: number): Promise<string> {
  const hostIf = `obh${subnet}`;
  const nsIf = `obn${subnet}`;
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', ns, 'ip', ...args]);
  netnsDirMountedBefore ??= netnsDirMounted();
  await run('ip', ['netns', 'add', ns]);
  try {
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', ns]);
    await run('ip', ['addr', 'add', `10.213.${subnet}.1/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await inNs('addr', 'add', `10.213.${subnet}.2/30`, 'dev', nsIf);
    await inNs('link', 'set', nsIf, 'up');
    await inNs('link', 'set', 'lo', 'up');
  } catch (err) {
    await dropNetns(ns, subnet);
    throw err;
  }
  return `10.213.${subnet}.2`;
}

async function dropNetns(ns: string, subnet: number): Promise<void> {
  // Deleting the namespace destroys its veth end, which destroys the peer too;
  // the explicit delete covers a failure before the move.
  await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  await run('ip', ['link', 'delete', `obh${subnet}`]).catch(() => undefined);
  unmountNetnsDir();
}

/**
 * `ip netns add` bind-mounts /run/netns onto itself the first time, and `ip netns delete` leaves
 * that mount. It then shows in df inside SSH sessions (not in root's), and a test that compares
 * the bot's disks with df -P would see a disk that is not there. The mount is undone once the
 * last namespace is gone, when it was not there before these tests made one.
 */
let netnsDirMountedBefore: boolean | undefined;
const netnsDirMounted = () => /^\S+ \/run\/netns /m.test(readFileSync('/proc/self/mounts', 'utf8'));
function unmountNetnsDir(): void {
  if (netnsDirMountedBefore !== false || !netnsDirMounted()) return;
  try {
    if (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).trim()) return;
    execFileSync('umount', ['/run/netns'], { stdio: 'ignore' });
  } catch {
    // busy or already gone: best effort
  }
}

/** A /30 in 10.213.0.0/16 nobody on this machine uses yet (other test runs may be live). */
async function freeSubnet(): Promise<number> {
  const used = await run('ip', ['-o', 'addr']);
  for (let tries = 0; tries < 100; tries++) {
    const x = 1 + Math.floor(Math.random() * 254);
    if (!used.includes(`10.213.${x}.`) && !used.includes(`obh${x}`)) return x;
  }
  throw new Error('no free 10.213.x.0/30');
}

let counter = 0;

export async function startSshd(opts: { netns?: boolean } = {}): Promise<SshHost> {
  removeStaleUsers();
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-sshd-'));
  // The login user must reach files the tests put here (logs); keys stay 0600, root's.
  await chmod(dir, 0o755);
  const state: Live = { dir };
  live.add(state);
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  const cfg = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  const user = `${USER_PREFIX}${process.pid}-${counter++}`;
  let account: { uid: number; home: string };
  try {
    await mkdir('/run/sshd', { recursive: true });
    await keygen(hostKey);
    await keygen(clientKey);
    state.user = user; // set before useradd, so a half-made account is removed too
    account = await createUser(user, dir, `${clientKey}.pub`);
    state.uid = account.uid;
  } catch (err) {
    live.delete(state);
    removeSync(state);
    throw err;
  }

  let host = '127.0.0.1';
  let subnet = 0;
  if (opts.netns) {
    subnet = await freeSubnet();
    const ns = `opsbot-ssh-${process.pid}-${counter++}`;
    try {
      host = await makeNetns(ns, subnet);
    } catch (err) {
      live.delete(state);
      removeSync(state);
      throw new Error(`netns unavailable: ${(err as Error).message}`);
    }
    state.netns = ns;
  }
  const nsName = state.netns;
  // Inside a fresh namespace any port is free; on the host pick one the kernel hands out.
  const port = await freePort();
  state.port = port;

  await writeFile(cfg, [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'AuthorizedKeysFile .ssh/authorized_keys',
    `AllowUsers ${user}`,
    'PermitRootLogin no',
    'PasswordAuthentication no',
    'UsePAM no',
    'StrictModes no',
    '',
  ].join('\n'));

  const readLog = () => readFile(logPath, 'utf8').catch(() => '(no sshd.log)');

  const spawnSshd = async () => {
    const sshd = ['/usr/sbin/sshd', '-f', cfg, '-D', '-E', logPath];
    // `ip netns exec` execs sshd in place, so the child pid is sshd itself.
    const child = nsName
      ? spawn('ip', ['netns', 'exec', nsName, ...sshd], { stdio: 'ignore' })
      : spawn(sshd[0], sshd.slice(1), { stdio: 'ignore' });
    state.child = child;
    await waitFor(host, port, 'banner', readLog, () => child.exitCode !== null || child.signalCode !== null);
  };

  const killSshd = async () => {
    const child = state.child;
    if (!child) return; // already stopped
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    state.child = undefined;
    await waitFor(host, port, 'refused', readLog);
  };

  const self: SshHost = {
    host,
    port,
    user,
    uid: account.uid,
    home: account.home,
    privateKeyPath: clientKey,
    privateKey: await readFile(clientKey, 'utf8'),
    hostKeyFingerprint: await fingerprint(`${hostKey}.pub`),
    dir,
    async stop() {
      await killSshd();
      if (nsName && state.netns) {
        await dropNetns(nsName, subnet);
        state.netns = undefined;
      }
    },
    async start() {
      if (nsName && !state.netns) {
        await makeNetns(nsName, subnet);
        state.netns = nsName;
      }
      await spawnSshd();
    },
    async replaceHostKey() {
      await keygen(hostKey);
      self.hostKeyFingerprint = await fingerprint(`${hostKey}.pub`);
      await killSshd();
      await spawnSshd();
      return self.hostKeyFingerprint;
    },
    ssh: (...remoteArgs) => run('ssh', [
      '-i', clientKey, '-p', String(port),
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
      '-o', 'LogLevel=ERROR', // no "Permanently added" noise on stderr
      `${user}@${host}`, ...remoteArgs,
    ]),
    processes: () => pidsOfUid(account.uid),
    async remove() {
      await self.stop().catch(() => undefined);
      live.delete(state);
      removeSync(state);
    },
  };

  try {
    await spawnSshd();
  } catch (err) {
    await self.stop().catch(() => undefined);
    live.delete(state);
    removeSync(state);
    throw err;
  }
  return self;
}

/**
 * Ends the sshd processes that serve established connections on this host's port, as a reboot
 * would. Stopping the listener alone is not enough: OpenSSH keeps open sessions running.
 */
export function dropSessions(h: { port: number }): void {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', '(', 'sport', '=', `:${h.port}`, ')'], { encoding: 'utf8' });
  for (const m of out.matchAll(/pid=(\d+)/g)) {
    try {
      process.kill(Number(m[1]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
