import type { DiskUsage } from './types.ts';

/** Parses `df -P` (optionally -h) output: one row per mount, mount point may contain spaces. */
export function parseDf(text: string): DiskUsage[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 6)
    .map((f) => ({
      filesystem: f[0],
      size: f[1],
      used: f[2],
      avail: f[3],
      usePercent: Number.parseInt(f[4], 10) || 0,
      mount: f.slice(5).join(' '),
    }));
}

/** /proc/meminfo values in bytes. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return out;
}

/** Percentage of memory in use, the way `free` counts it: total minus available. */
export function memoryUsedPercent(meminfo: Record<string, number>): number {
  const total = meminfo.MemTotal ?? 0;
  const available = meminfo.MemAvailable ?? meminfo.MemFree ?? 0;
  return total > 0 ? ((total - available) / total) * 100 : 0;
}

/** The "Mem:" row of `free -h`, keyed by its header (total, used, free, shared, buff/cache, available). */
export function parseFree(text: string): Record<string, string> {
  const lines = text.trim().split('\n');
  const header = lines[0].trim().split(/\s+/);
  const mem = lines.find((l) => l.startsWith('Mem:'))?.trim().split(/\s+/).slice(1) ?? [];
  return Object.fromEntries(header.map((h, i) => [h, mem[i] ?? '?']));
}
