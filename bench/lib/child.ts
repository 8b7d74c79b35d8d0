/**
 * Runs each server under test in its own Node process, so the load generator, the fake Slack
 * and the app never share one event loop. Parent and child talk over the IPC channel:
 * the child announces `{ ready }` once listening, then answers `{ id, op }` requests.
 * A child also prints its ready message as one JSON line on stdout, so it can be run by hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface Ready {
  port: number;
  url: string;
}

/** CPU and event-loop figures of one process since the last `mark`. */
export interface ProcStats {
  wallMs: number;
  /** user + system CPU time, in ms. */
  cpuMs: number;
  /** Event-loop utilization, 0..1: the share of wall time the loop was busy. */
  elu: number;
  rssMB: number;
  /** The process's peak resident set since it started (VmHWM), in MB. */
  peakRssMB: number;
  heapMB: number;
  /** How late a 1 ms timer ran: p99 and max, in ms. Long synchronous work shows up here. */
  loopDelayP99: number;
  loopDelayMax: number;
}

type Handler = (arg?: string) => unknown | Promise<unknown>;

export interface ChildHandle {
  ready: Ready;
  pid: number;
  call<T = unknown>(op: string, arg?: string): Promise<T>;
  /** Asks the child to stop, then kills it if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const TSX = import.meta.resolve('tsx');

export async function startChild(script: string, opts: { env?: Record<string, string>; nodeArgs?: string[]; startTimeoutMs?: number } = {}): Promise<ChildHandle> {
  const child: ChildProcess = spawn(process.execPath, ['--import', TSX, ...(opts.nodeArgs ?? []), script], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let seq = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failAll = (why: string) => {
    for (const w of waiting.values()) w.reject(new Error(why));
    waiting.clear();
  };
  child.once('exit', (code, signal) => failAll(`${script} exited (${code ?? signal})`));

  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not become ready within ${opts.startTimeoutMs ?? 60_000} ms`));
    }, opts.startTimeoutMs ?? 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (${code ?? signal})`));
    });
    child.on('message', (msg: { ready?: Ready; id?: number; result?: unknown; error?: string }) => {
      if (msg.ready) {
        clearTimeout(timer);
        resolve(msg.ready);
        return;
      }
      const w = msg.id === undefined ? undefined : waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id!);
      if (msg.error) w.reject(new Error(msg.error));
      else w.resolve(msg.result);
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    ready,
    pid: child.pid!,
    call<T>(op: string, arg?: string) {
      return new Promise<T>((resolve, reject) => {
        const id = ++seq;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, arg });
      });
    },
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.send({ id: 0, op: 'stop' });
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** In a child: answers the parent's requests. `mark` and `stats` are built in; `stop` calls `onStop`, then exits. */
export function serveParent(ready: Ready, handlers: Record<string, Handler>, onStop: () => Promise<void>): void {
  let markCpu = process.cpuUsage();
  let markElu = performance.eventLoopUtilization();
  let markAt = performance.now();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const builtIn: Record<string, Handler> = {
    mark() {
      markCpu = process.cpuUsage();
      markElu = performance.eventLoopUtilization();
      markAt = performance.now();
      delay.reset();
      return null;
    },
    stats(): ProcStats {
      const cpu = process.cpuUsage(markCpu);
      const mem = process.memoryUsage();
      return {
        wallMs: performance.now() - markAt,
        cpuMs: (cpu.user + cpu.system) / 1000,
        elu: performance.eventLoopUtilization(markElu).utilization,
        rssMB: mem.rss / 2 ** 20,
        peakRssMB: peakRssMB(),
        heapMB: mem.heapUsed / 2 ** 20,
        // The histogram is in ns and counts the 1 ms resolution itself; report the lateness.
        loopDelayP99: Math.max(0, delay.percentile(99) / 1e6 - 1),
        loopDelayMax: Math.max(0, delay.max / 1e6 - 1),
      };
    },
  };

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', async (msg: { id: number; op: string; arg?: string }) => {
    if (msg.op === 'stop') return stop();
    const handler = handlers[msg.op] ?? builtIn[msg.op];
    try {
      if (!handler) throw new Error(`unknown op ${msg.op}`);
      process.send?.({ id: msg.id, result: await handler(msg.arg) });
    } catch (err) {
      process.send?.({ id: msg.id, error: String(err) });
    }
  });
  // The parent went away (crashed or killed): do not outlive it.
  process.on('disconnect', () => void stop());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop());
  console.log(JSON.stringify(ready));
  process.send?.({ ready });
}

/** VmHWM from /proc (Linux): the peak resident set of this process so far; NaN elsewhere. */
function peakRssMB(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
