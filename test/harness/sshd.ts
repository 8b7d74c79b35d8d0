// A real OpenSSH server for integration tests: its own host key, its own authorized
// client key, a free port, optionally inside its own network namespace so it looks
// like a second machine (see /work/shared/RECIPES.md, "SSH").
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile, copyFile, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SshHost {
  /** 127.0.0.1, or the address inside the namespace */
  host: string;
  port: number;
  user: string;
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
}

function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Everything still alive at process exit; the hook must be synchronous.
const live = new Set<{ child?: ChildProcess; netns?: string; dir: string }>();
process.once('exit', () => {
  for (const h of live) {
    h.child?.kill('SIGKILL');
    if (h.netns) try { execFileSync('ip', ['netns', 'delete', h.netns], { stdio: 'ignore' }); } catch { /* best effort */ }
    rmSync(h.dir, { recursive: true, force: true });
  }
});

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
    sock.setTimeout(1000, () => done('other'));
    sock.once('data', (d) => done(d.toString().startsWith('SSH-') ? 'banner' : 'other'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'other'));
    sock.once('close', () => done('other'));
  });
}

async function waitFor(
  host: string, port: number, want: 'banner' | 'refused',
  log: () => Promise<string>, died: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await probe(host, port)) !== want) {
    // A child that already exited will never answer; fail now, with its log.
    const why = died() ? 'sshd exited' : Date.now() > deadline ? `no ${want} after 15 s` : '';
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
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-sshd-'));
  const state: { child?: ChildProcess; netns?: string; dir: string } = { dir };
  live.add(state);
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  const cfg = join(dir, 'sshd_config');
  const logPath = join(dir, 'sshd.log');
  await mkdir('/run/sshd', { recursive: true });
  await keygen(hostKey);
  await keygen(clientKey);
  await copyFile(`${clientKey}.pub`, join(dir, 'authorized_keys'));

  let host = '127.0.0.1';
  let subnet = 0;
  if (opts.netns) {
    subnet = await freeSubnet();
    const ns = `opsbot-ssh-${process.pid}-${counter++}`;
    try {
      host = await makeNetns(ns, subnet);
    } catch (err) {
      live.delete(state);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`netns unavailable: ${(err as Error).message}`);
    }
    state.netns = ns;
  }
  const nsName = state.netns;
  // Inside a fresh namespace any port is free; on the host pick one the kernel hands out.
  const port = await freePort();

  await writeFile(cfg, [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
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
    user: 'root',
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
      `root@${host}`, ...remoteArgs,
    ]),
  };

  try {
    await spawnSshd();
  } catch (err) {
    await self.stop().catch(() => undefined);
    state.child?.kill('SIGKILL');
    live.delete(state);
    await rm(dir, { recursive: true, force: true });
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
