// A real, throwaway Docker Engine for integration tests.
// Nothing can be pulled on these machines, so the only image is one imported
// from a busybox-static rootfs (see /work/shared/RECIPES.md, "Docker Engine").
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, copyFile, symlink, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaled } from '../helpers/wait.ts';

export const IMAGE = 'opsbot-busybox:test';

export interface ComposeServiceOptions {
  project: string;
  service: string;
  /** default `${project}-${service}-1`, like compose v2 */
  name?: string;
  /** adds `--health-cmd true --health-interval 1s` */
  healthcheck?: boolean;
  /** default ['sleep', '100000'] */
  cmd?: string[];
  env?: Record<string, string>;
}

export interface DockerEngine {
  socketPath: string;
  image: string;
  /** `docker -H unix://socketPath ...args`, stdout trimmed */
  docker(...args: string[]): Promise<string>;
  /** returns the container id */
  runComposeService(opts: ComposeServiceOptions): Promise<string>;
  startedAt(name: string): Promise<string>;
  countEvents(name: string, event: string, sinceIso: string): Promise<number>;
  stop(): Promise<void>;
  /** milliseconds spent starting dockerd and building the image (only when started here) */
  timings?: { dockerdMs: number; imageMs: number };
}

/** execFile with the child's stderr in the error message, stdout trimmed. */
function run(cmd: string, args: string[], timeoutMs = scaled(120_000)): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** An engine object over an existing socket; `onStop` tears down what we own. */
function wrapEngine(socketPath: string, image: string, onStop: (rmAll: () => Promise<void>) => Promise<void>): DockerEngine {
  const created = new Set<string>();
  const docker = (...args: string[]) => run('docker', ['-H', `unix://${socketPath}`, ...args]);

  return {
    socketPath,
    image,
    docker,
    async runComposeService(opts) {
      const name = opts.name ?? `${opts.project}-${opts.service}-1`;
      const args = ['run', '-d', '--name', name, '--network', 'none',
        '--label', `com.docker.compose.project=${opts.project}`,
        '--label', `com.docker.compose.service=${opts.service}`,
        '--label', 'com.docker.compose.container-number=1'];
      if (opts.healthcheck) args.push('--health-cmd', 'true', '--health-interval', '1s');
      for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
      // Record the name before running: a failed `run` can still leave a created container.
      created.add(name);
      return docker(...args, image, ...(opts.cmd ?? ['sleep', '100000']));
    },
    startedAt: (name) => docker('inspect', '--format', '{{.State.StartedAt}}', name),
    async countEvents(name, event, sinceIso) {
      // --until is required, otherwise `docker events` streams forever.
      const out = await docker('events', '--since', sinceIso, '--until', new Date().toISOString(),
        '--filter', `container=${name}`, '--filter', `event=${event}`, '--format', '{{.Action}}');
      return out.split('\n').filter((l) => l.trim() !== '').length;
    },
    async stop() {
      const rmOurs = async () => {
        if (created.size > 0) await docker('rm', '-f', ...created).catch(() => undefined);
        created.clear();
      };
      await onStop(rmOurs);
    },
  };
}

async function buildImage(dir: string, docker: (...a: string[]) => Promise<string>): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await copyFile('/usr/bin/busybox', join(rootfs, 'bin', 'busybox'));
  const applets = (await run('/usr/bin/busybox', ['--list'])).split('\n').map((s) => s.trim());
  for (const applet of applets) {
    // Linking `busybox` itself would replace the binary with a self-link.
    if (applet === '' || applet === 'busybox') continue;
    await symlink('busybox', join(rootfs, 'bin', applet));
  }
  const tar = join(dir, 'rootfs.tar');
  await run('tar', ['-C', rootfs, '-cf', tar, '.']);
  // Without PATH in the image config, `sleep` is not found.
  await docker('import', '--change', 'ENV PATH=/bin', tar, IMAGE);
}

export async function startDocker(): Promise<DockerEngine> {
  const t0 = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-docker-'));
  const socketPath = join(dir, 'docker.sock');
  const execRoot = join(dir, 'dx');
  const logPath = join(dir, 'dockerd.log');
  const log = await open(logPath, 'a');
  const dockerd = spawn('dockerd', [
    '--data-root', join(dir, 'docker'), '--exec-root', execRoot,
    '--pidfile', join(dir, 'dockerd.pid'), '--host', `unix://${socketPath}`,
    '--iptables=false', '--ip6tables=false', '--bridge=none',
  ], { stdio: ['ignore', log.fd, log.fd] });
  await log.close(); // the child holds its own copy of the fd
  // Best effort: a test that crashes should not leave a daemon behind.
  // SIGTERM (not SIGKILL) so dockerd still stops its containerd.
  const onExit = () => { dockerd.kill('SIGTERM'); };
  process.once('exit', onExit);

  const readLog = () => run('tail', ['-n', '40', logPath]).catch(() => '');
  const docker = (...args: string[]) => run('docker', ['-H', `unix://${socketPath}`, ...args]);

  const teardown = async () => {
    if (dockerd.exitCode === null && dockerd.signalCode === null) {
      dockerd.kill('SIGTERM');
      const timer = setTimeout(() => dockerd.kill('SIGKILL'), scaled(10_000));
      await exited(dockerd);
      clearTimeout(timer);
    }
    process.removeListener('exit', onExit);
    await run('umount', [join(execRoot, 'netns', 'default')]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + scaled(30_000);
  for (;;) {
    if (await docker('version').then(() => true, () => false)) break;
    if (dockerd.exitCode !== null || Date.now() > deadline) {
      const why = dockerd.exitCode !== null ? `exited with ${dockerd.exitCode}` : `not up after ${scaled(30_000)} ms`;
      const tail = await readLog();
      await teardown();
      throw new Error(`dockerd ${why}; log:\n${tail}`);
    }
    await sleep(100);
  }

  const t1 = Date.now();
  try {
    await buildImage(dir, docker);
  } catch (err) {
    await teardown();
    throw err;
  }

  const engine = wrapEngine(socketPath, IMAGE, async () => {
    // We own this daemon, so remove every container, not just ours.
    const ids = (await docker('ps', '-aq').catch(() => '')).split('\n').filter(Boolean);
    if (ids.length > 0) await docker('rm', '-f', ...ids).catch(() => undefined);
    await teardown();
  });
  engine.timings = { dockerdMs: t1 - t0, imageMs: Date.now() - t1 };
  return engine;
}

let shared: Promise<DockerEngine> | undefined;

/**
 * One engine per process. With OPSBOT_TEST_DOCKER_SOCK and OPSBOT_TEST_DOCKER_IMAGE set
 * (e.g. by a test runner that started dockerd once), reuse that engine; stop() then only
 * removes the containers this process created.
 */
export function sharedDocker(): Promise<DockerEngine> {
  if (shared) return shared;
  const sock = process.env.OPSBOT_TEST_DOCKER_SOCK;
  const image = process.env.OPSBOT_TEST_DOCKER_IMAGE;
  const forget = () => { shared = undefined; };
  if (sock && image) {
    shared = Promise.resolve(wrapEngine(sock, image, async (rmOurs) => { forget(); await rmOurs(); }));
  } else {
    shared = startDocker().then((engine) => ({
      ...engine,
      stop: async () => { forget(); await engine.stop(); },
    }));
    shared.catch(forget);
  }
  return shared;
}
