// Self-tests for the docker and sshd harnesses: they drive real daemons, so they
// prove the recipes still hold on this machine before other tests rely on them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile, access, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { NodeSSH } from 'node-ssh';
import { startDocker, type DockerEngine } from './docker.ts';
import { startSshd, type SshHost } from './sshd.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';

// dockerode ships no types and @types/dockerode is not installed; describe the part we use.
interface ContainerInfo { Id: string; Names: string[]; State: string; Labels: Record<string, string> }
interface DockerodeClient {
  listContainers(opts: { all?: boolean; filters?: Record<string, string[]> }): Promise<ContainerInfo[]>;
}
const Docker = createRequire(import.meta.url)('dockerode') as new (opts: { socketPath: string }) => DockerodeClient;


function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** What `ssh-keygen -l` prints for a raw SSH public key blob (ssh2 hands hostVerifier the blob). */
function sshFingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

describe('docker harness', () => {
  let engine: DockerEngine;
  let dockerdPid = 0;

  before(async () => {
    engine = await startDocker();
    dockerdPid = Number(await readFile(join(dirname(engine.socketPath), 'dockerd.pid'), 'utf8'));
    console.log(`dockerd up in ${engine.timings?.dockerdMs} ms, image built in ${engine.timings?.imageMs} ms`);
  });

  after(async () => {
    if (!engine) return; // before() failed and already cleaned up
    await engine.stop();
    assert.equal(alive(dockerdPid), false, 'dockerd still running');
    await assert.rejects(access(dirname(engine.socketPath)), 'temp dir left behind');
  });

  it('dockerd answers and has the busybox image', async () => {
    assert.match(await engine.docker('version', '--format', '{{.Server.Version}}'), /^\d+\./);
    assert.equal(await engine.docker('run', '--rm', '--network', 'none', engine.image, 'echo', 'hi'), 'hi');
  });

  it('runs a compose-labelled container that dockerode finds', async () => {
    const id = await engine.runComposeService({ project: 'mitong', service: 'backend', env: { APP_ENV: 'test' } });
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await engine.docker('inspect', '--format', '{{.State.Running}}', 'mitong-backend-1'), 'true');

    const dockerode = new Docker({ socketPath: engine.socketPath });
    const found = await dockerode.listContainers({ all: true, filters: { label: ['com.docker.compose.project=mitong'] } });
    assert.equal(found.length, 1);
    assert.equal(found[0].Id, id);
    assert.deepEqual(found[0].Names, ['/mitong-backend-1']);
    assert.equal(found[0].Labels['com.docker.compose.service'], 'backend');
    assert.equal(found[0].Labels['com.docker.compose.container-number'], '1');
  });

  it('a restart changes startedAt and shows up as one start event', async () => {
    const name = 'mitong-backend-1';
    const before = await engine.startedAt(name);
    const since = new Date().toISOString();
    const t0 = Date.now();
    await engine.docker('restart', '-t', '1', name);
    console.log(`docker restart -t 1 took ${Date.now() - t0} ms`);
    assert.notEqual(await engine.startedAt(name), before);
    // Events arrive a little late.
    await until('start events', scaled(5000), () => engine.countEvents(name, 'start', since), (n) => n === 1);
  });

  it('a healthcheck container becomes healthy', async () => {
    await engine.runComposeService({ project: 'mitong', service: 'db', healthcheck: true });
    const t0 = Date.now();
    await until('health', scaled(20_000),
      () => engine.docker('inspect', '--format', '{{.State.Health.Status}}', 'mitong-db-1'), (s) => s === 'healthy');
    console.log(`healthy after ${Date.now() - t0} ms`);
  });
});

describe('sshd harness', () => {
  const hosts: SshHost[] = [];
  const pids: number[] = [];

  async function track(h: SshHost): Promise<SshHost> {
    hosts.push(h);
    pids.push(Number(await readFile(join(h.dir, 'sshd.pid'), 'utf8')));
    return h;
  }

  /** Connect with node-ssh, pinning the fingerprint; returns the fingerprint the server presented. */
  async function connect(h: SshHost): Promise<{ ssh: NodeSSH; seen: string }> {
    let seen = '';
    const ssh = await new NodeSSH().connect({
      host: h.host, port: h.port, username: h.user, privateKey: h.privateKey, readyTimeout: scaled(5000),
      hostVerifier: (key: Buffer) => { seen = sshFingerprint(key); return seen === h.hostKeyFingerprint; },
    });
    return { ssh, seen };
  }

  /** The /etc/passwd entry of `user`, or undefined. */
  const passwdEntry = (user: string) => readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));

  after(async () => {
    for (const h of hosts) await h.remove();
    await sleep(100);
    for (const pid of pids) assert.equal(alive(pid), false, `sshd ${pid} still running`);
    for (const h of hosts) {
      assert.equal(passwdEntry(h.user), undefined, `login user ${h.user} left behind`);
      assert.equal(existsSync(h.dir), false, `${h.dir} left behind`);
    }
    assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`opsbot-ssh-${process.pid}-`));
  });

  it('starts, pins the host key, runs commands, replaces the key, stops and restarts', async () => {
    const t0 = Date.now();
    const h = await track(await startSshd());
    console.log(`sshd up in ${Date.now() - t0} ms`);
    assert.match(h.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);

    const { ssh, seen } = await connect(h);
    assert.equal(seen, h.hostKeyFingerprint);
    const meminfo = await ssh.execCommand('cat /proc/meminfo');
    assert.match(meminfo.stdout, /^MemTotal:/m);
    ssh.dispose();
    assert.equal((await h.ssh('echo', 'ok')).trim(), 'ok');

    const old = h.hostKeyFingerprint;
    const fresh = await h.replaceHostKey();
    pids.push(Number(await readFile(join(h.dir, 'sshd.pid'), 'utf8')));
    assert.notEqual(fresh, old);
    assert.equal(h.hostKeyFingerprint, fresh);
    const again = await connect(h);
    assert.equal(again.seen, fresh);
    again.ssh.dispose();

    await h.stop();
    await assert.rejects(connect(h), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');

    await h.start();
    pids.push(Number(await readFile(join(h.dir, 'sshd.pid'), 'utf8')));
    const back = await connect(h);
    assert.equal(back.seen, fresh);
    back.ssh.dispose();
  });

  it('logs in as a user of its own: /bin/sh, an empty home, and files in its dir readable', async () => {
    const h = await track(await startSshd());
    assert.notEqual(h.uid, 0);
    const entry = passwdEntry(h.user)?.split(':');
    assert.ok(entry, `${h.user} is not in /etc/passwd`);
    assert.deepEqual([entry[2], entry[5], entry[6]], [String(h.uid), h.home, '/bin/sh']);
    // No rc file from /etc/skel or anywhere else runs at login: the home holds .ssh only.
    const [id, pwd, ...files] = (await h.ssh('id -u; pwd; ls -A')).trim().split('\n');
    assert.deepEqual([id, pwd, files], [String(h.uid), h.home, ['.ssh']]);
    // Logs the tests put in the host's dir are readable by it; the private keys are not.
    const log = join(h.dir, 'app.log');
    await writeFile(log, 'ERROR x\n');
    assert.equal((await h.ssh('cat', log)).trim(), 'ERROR x');
    assert.equal(statSync(h.privateKeyPath).mode & 0o077, 0, 'the client key is private');
    await assert.rejects(h.ssh('cat', h.privateKeyPath), /Permission denied/);
    // Root may not log in at all.
    const root = await new NodeSSH().connect({ host: h.host, port: h.port, username: 'root', privateKey: h.privateKey, readyTimeout: scaled(5000) })
      .then((c) => { c.dispose(); return 'logged in'; }, (e: Error) => e.message);
    assert.match(root, /authentication methods failed/);
    // Only its sessions' processes run as it: none now, one while a command runs.
    await until('no session processes', scaled(5000), async () => h.processes(), (p) => p.length === 0);
    const running = h.ssh('sleep', '3');
    await until('the sleep', scaled(3000), async () => h.processes().filter((pid) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'); } catch { return false; } }), (p) => p.length === 1);
    await running;
  });

  it('runs a second host in its own network namespace', async (t) => {
    let h: SshHost;
    try {
      h = await track(await startSshd({ netns: true }));
    } catch (e) {
      const msg = (e as Error).message;
      if (!msg.startsWith('netns unavailable:')) throw e;
      t.skip(msg);
      return;
    }
    assert.match(h.host, /^10\.213\.\d+\.2$/);
    const { ssh, seen } = await connect(h);
    assert.equal(seen, h.hostKeyFingerprint);
    // Inside the namespace the only addresses are loopback and the veth end.
    const addrs = await ssh.execCommand('ip -o -4 addr');
    const inet = [...addrs.stdout.matchAll(/inet ([\d.]+)\//g)].map((m) => m[1]).sort();
    assert.deepEqual(inet, [h.host, '127.0.0.1']);
    ssh.dispose();

    await h.remove();
    assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`opsbot-ssh-${process.pid}-`));
    assert.equal(passwdEntry(h.user), undefined, 'login user left behind');
  });
});
