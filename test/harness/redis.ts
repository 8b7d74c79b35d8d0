// Starts a throwaway redis-server that tests can stop and restart on the same port
// (to simulate an outage). Flags follow RECIPES.md, but it runs in the foreground as
// our child so stop() can kill it and wait for it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { scaled } from '../helpers/wait.ts';
import { freePort, onProcessExit } from './ports.ts';

const execFileAsync = promisify(execFile);

export interface RedisServer {
  /** redis://127.0.0.1:PORT/0 */
  url: string;
  port: number;
  /** Kills the server and waits until the port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until PING answers. */
  start(): Promise<void>;
  /** Runs `redis-cli -p PORT ...args` and returns its stdout, trimmed. */
  cli(...args: string[]): Promise<string>;
}

// With setpriv, the kernel kills redis even if we die by SIGKILL, where no exit hook runs.
const hasSetpriv = existsSync('/usr/bin/setpriv');

/** Sends an inline PING and reports whether +PONG came back. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(scaled(1000), () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', () => resolve(true));
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** `args`: more redis-server flags, e.g. ['--rename-command', 'CONFIG', ''] for a hardened server. */
export async function startRedis(opts: { args?: string[] } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  onProcessExit(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function launch(port: number): Promise<void> {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', ...(opts.args ?? []),
    ];
    const [file, argv] = hasSetpriv
      ? ['setpriv', ['--pdeathsig', 'SIGKILL', 'redis-server', ...args]]
      : ['redis-server', args];
    const c = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    output = '';
    const keepTail = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    c.stdout?.on('data', keepTail);
    c.stderr?.on('data', keepTail);
    c.on('error', (err) => keepTail(Buffer.from(String(err))));
    // A forgotten server must not keep the test process alive; the exit hook kills it.
    // Our own waits below use timers, which keep the loop alive while they matter.
    c.unref();
    (c.stdout as net.Socket | null)?.unref();
    (c.stderr as net.Socket | null)?.unref();

    const limit = scaled(10_000);
    const deadline = Date.now() + limit;
    while (!(await ping(port))) {
      if (c.exitCode !== null || c.signalCode !== null) {
        throw new Error(`redis-server exited (${c.exitCode ?? c.signalCode}):\n${output}`);
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`redis-server did not answer PING on ${port} within ${limit} ms:\n${output}`);
      }
      await sleep(20);
    }
  }

  // The free port can be taken before redis binds it, so try a few.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }

  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async stop() {
      const c = child;
      child = undefined;
      if (c && c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGTERM');
        const force = setTimeout(() => c.kill('SIGKILL'), scaled(3000));
        await exited;
        clearTimeout(force);
      }
      const deadline = Date.now() + scaled(5000);
      while (!(await refuses(port))) {
        if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections after stop`);
        await sleep(20);
      }
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      await launch(port);
    },
    async cli(...args) {
      const { stdout } = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
      return stdout.trim();
    },
  };
}
