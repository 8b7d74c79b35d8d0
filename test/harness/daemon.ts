/**
 * A server the tests start as their own child (Prometheus, Alertmanager): killed with the test
 * process (setpriv's parent-death signal when available, and an exit hook), its output kept for
 * failure messages, ready once `readyUrl` answers 2xx, and its temp directory removed on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { scaled, sleep } from '../helpers/wait.ts';
import { onProcessExit } from './ports.ts';

const hasSetpriv = existsSync('/usr/bin/setpriv');

export interface Daemon {
  logs(): string;
  stop(): Promise<void>;
}

export async function startDaemon(opts: { name: string; bin: string; args: string[]; dir: string; readyUrl: string; readyMs: number; cwd?: string }): Promise<Daemon> {
  const { name, bin, args, dir } = opts;
  const [file, argv] = hasSetpriv ? ['setpriv', ['--pdeathsig', 'SIGKILL', bin, ...args]] : [bin, args];
  const child: ChildProcess = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString()).slice(-256 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const unhook = onProcessExit(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const deadline = Date.now() + scaled(opts.readyMs);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${output}`);
    const ok = await fetch(opts.readyUrl).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready on ${opts.readyUrl}:\n${output}`);
    }
    await sleep(100);
  }
  return {
    logs: () => output,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      child.kill('SIGKILL');
      unhook();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
