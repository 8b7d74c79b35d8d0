/**
 * What bench/backup.ts watches of a process while an operation runs, from /proc (Linux):
 * its resident set every 100 ms (VmRSS, and VmHWM, the kernel's own peak since the process
 * started), and which programs its descendants ran and when (pg_dump, pg_restore, sha256sum…),
 * the first and last sample each was seen in, so an operation's wall time can be split into its
 * steps without instrumenting the bot.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MemStatus {
  rssMB: number;
  hwmMB: number;
}

export function memStatus(pid: number): MemStatus {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) / 1024;
    return { rssMB: kb('VmRSS'), hwmMB: kb('VmHWM') };
  } catch {
    return { rssMB: NaN, hwmMB: NaN };
  }
}

/** Children of every thread of `pid` (/proc/PID/task/TID/children), so a spawn from any thread is seen. */
function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

/** Every live descendant of `root` and its command name (comm). */
export function descendants(root: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  const stack = children(root);
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      out.push({ pid, comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim() });
    } catch {
      continue; // exited
    }
    stack.push(...children(pid));
  }
  return out;
}

export interface Watched {
  /** Highest VmRSS sampled during the operation, in MB. */
  peakRssMB: number;
  /** VmHWM at the end: the process's peak since it started (covers spikes between samples). */
  hwmMB: number;
  /** VmRSS at the start. */
  startRssMB: number;
  samples: number;
  /** comm → [first seen, last seen] in ms since the start (±100 ms), all processes of that name merged. */
  programs: Record<string, [number, number]>;
}

/** Samples `pid` every `everyMs` until the returned function is called. */
export function watchProcess(pid: number, everyMs = 100): () => Watched {
  const t0 = performance.now();
  const start = memStatus(pid);
  let peak = start.rssMB;
  let samples = 1;
  const programs: Record<string, [number, number]> = {};
  const sample = () => {
    const m = memStatus(pid);
    if (m.rssMB > peak) peak = m.rssMB;
    samples++;
    const at = performance.now() - t0;
    for (const d of descendants(pid)) {
      const p = (programs[d.comm] ??= [at, at]);
      p[1] = at;
    }
  };
  const timer = setInterval(sample, everyMs);
  return () => {
    clearInterval(timer);
    sample();
    return { peakRssMB: peak, hwmMB: memStatus(pid).hwmMB, startRssMB: start.rssMB, samples, programs };
  };
}
