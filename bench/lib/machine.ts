/**
 * CPU accounting over a window, from /proc: the whole machine, the processes of this benchmark
 * (this process and its children, plus the PostgreSQL cluster, which pg_ctl detaches), and so
 * the rest: other work on the same machine, which makes a round noisy. Linux only; elsewhere
 * the figures are NaN.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const TICK_MS = 10; // USER_HZ is 100 on Linux
const CORES = cpus().length;

function machineTicks(): { busy: number; total: number } {
  // First line of /proc/stat: cpu user nice system idle iowait irq softirq steal …
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/** CPU time of `roots` and all their descendants, reaped ones included, in ticks. */
function treeTicks(roots: number[]): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after the last ')' do not.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime, plus cutime + cstime: the CPU of children it has reaped (a PostgreSQL
      // backend that exited, a df the bot ran), which would otherwise vanish from the sum.
      procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited while we looked
    }
  }
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  let ticks = 0;
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += procs.get(pid)?.ticks ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

export interface CpuWindow {
  /** Share of all cores busy, 0..1. */
  machine: number;
  /** This process's CPU (the load generator), as a share of one core. */
  self: number;
  /** The benchmark's processes together (load generator, apps, fake Slack, PostgreSQL, Redis), in cores. */
  ours: number;
  /** Everything else on the machine, in cores. */
  others: number;
}

/** Starts a window; call the result to close it. `roots` are the benchmark's detached process trees. */
export function cpuWindow(roots: () => number[]): () => CpuWindow {
  const read = () => {
    try {
      return { m: machineTicks(), ours: treeTicks([process.pid, ...roots()]) };
    } catch {
      return undefined;
    }
  };
  const start = read();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const end = read();
    const self = (cpu.user + cpu.system) / 1000 / wallMs;
    if (!start || !end) return { machine: NaN, self, ours: NaN, others: NaN };
    const total = end.m.total - start.m.total;
    const machine = (end.m.busy - start.m.busy) / total;
    // /proc/stat counts ticks of every core, so `total` ticks span CORES × wall time.
    const ours = ((end.ours - start.ours) * TICK_MS) / wallMs;
    return { machine, self, ours, others: Math.max(0, machine * CORES - ours) };
  };
}

/**
 * Waits until other work on the machine uses less than `threshold` cores over a 1 s sample,
 * for at most `maxMs`. Returns the last sample's figure, so a noisy round can be flagged.
 */
export async function waitForQuiet(roots: () => number[], threshold: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const close = cpuWindow(roots);
    await sleep(1000);
    const { others } = close();
    if (!(others >= threshold) || Date.now() >= deadline) return others;
  }
}
