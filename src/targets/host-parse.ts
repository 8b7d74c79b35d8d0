/**
 * Turns the output of the host templates into HostHealth. LocalHost and SshHost both go through
 * here, so `local` and `app1` report the same shapes and the same rounding.
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { FACTS_MARK } from './templates.ts';
import type { DiskUsage, HostHealth, MemoryUsage } from './types.ts';

const UNITS = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/**
 * Bytes the way `df -h` prints them (GNU human_readable with its default rounding up): powers
 * of 1024, one decimal below 10 units, and a value that rounds up to 1024 moves to the next unit.
 * Matching df exactly lets an operator compare /health with what they see in a terminal.
 */
export function humanSize(bytes: number | bigint): string {
  const n = BigInt(bytes); // sizes in bytes can pass 2^53 once multiplied by ten
  if (n < 0n) return `-${humanSize(-n)}`;
  let unit = 1n;
  let e = 0;
  while (n >= unit * 1024n && e < UNITS.length - 1) {
    unit *= 1024n;
    e++;
  }
  if (e === 0) return String(n);
  if (n / unit < 10n) {
    const tenths = (n * 10n + unit - 1n) / unit; // ceil(n / unit, 1 decimal)
    return tenths < 100n ? `${tenths / 10n}.${tenths % 10n}${UNITS[e]}` : `10${UNITS[e]}`;
  }
  const whole = (n + unit - 1n) / unit;
  if (whole === 1024n && e < UNITS.length - 1) return `1.0${UNITS[e + 1]}`;
  return `${whole}${UNITS[e]}`;
}

/** df's own Use%: used / (used + available), rounded up; blocks reserved for root do not count. */
export function dfUsePercent(usedKiB: number, availKiB: number): number {
  const total = usedKiB + availKiB;
  return total > 0 ? Math.ceil((usedKiB * 100) / total) : 0;
}

/** `df -P -k` output: one row per mount; a mount point may contain spaces. */
export function parseDf(text: string): DiskUsage[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 6)
    // Each container's overlay root shows up as a mount of its own; only a root overlay (opsbot
    // itself in a container) is a disk worth reporting, the rest repeat the host's disk.
    .filter((f) => f[0] !== 'overlay' || f.slice(5).join(' ') === '/')
    .map((f) => {
      const column = Number.parseInt(f[4], 10);
      const kib = (i: number) => (/^\d+$/.test(f[i]) ? BigInt(f[i]) * 1024n : 0n);
      return {
        filesystem: f[0],
        size: humanSize(kib(1)),
        used: humanSize(kib(2)),
        avail: humanSize(kib(3)),
        // The column is df's own figure; "-" (a file system without blocks) uses the same formula.
        usePercent: Number.isFinite(column) ? column : dfUsePercent(Number(kib(2) / 1024n), Number(kib(3) / 1024n)),
        mount: f.slice(5).join(' '),
        ...(/^\d+$/.test(f[2]) && /^\d+$/.test(f[3]) ? { bytes: { used: Number(kib(2)), avail: Number(kib(3)) } } : {}),
      };
    });
}

/** /proc/meminfo values in bytes. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** Percentage of memory in use, the way `free` counts it: total minus available. */
export function memoryUsedPercent(meminfo: Record<string, number>): number {
  const total = meminfo.MemTotal ?? 0;
  const available = meminfo.MemAvailable ?? meminfo.MemFree ?? 0;
  return total > 0 ? ((total - available) / total) * 100 : 0;
}

export function memoryUsage(meminfo: Record<string, number>): MemoryUsage {
  if (!meminfo.MemTotal) throw new Error('no MemTotal in /proc/meminfo');
  const total = meminfo.MemTotal;
  // Kernels before 3.14 have no MemAvailable; MemFree understates what is free, never overstates.
  const available = meminfo.MemAvailable ?? meminfo.MemFree ?? 0;
  return {
    total: humanSize(total),
    used: humanSize(total - available),
    available: humanSize(available),
    usedPercent: memoryUsedPercent(meminfo),
  };
}

/** /proc/loadavg: "0.52 0.58 0.59 1/467 12345". */
export function parseLoadavg(text: string): { one: number; five: number; fifteen: number } {
  const [one, five, fifteen] = text.trim().split(/\s+/).map(Number);
  if (![one, five, fifteen].every(Number.isFinite)) throw new Error(`unexpected /proc/loadavg: ${text.slice(0, 80)}`);
  return { one, five, fifteen };
}

export function parseCores(text: string): number {
  const n = Number.parseInt(text.trim(), 10);
  if (!(n > 0)) throw new Error(`unexpected nproc output: ${text.slice(0, 80)}`);
  return n;
}

/** Outputs of the df, meminfo, loadavg and nproc templates → HostHealth. */
export function hostHealth(out: { df: string; meminfo: string; loadavg: string; nproc: string }): HostHealth {
  return {
    disks: parseDf(out.df),
    memory: memoryUsage(parseMeminfo(out.meminfo)),
    load: { ...parseLoadavg(out.loadavg), cores: parseCores(out.nproc) },
  };
}

/**
 * stdout of a template that must have worked. df exits 1 when one mount is unreadable yet still
 * lists the others, so output wins over the status; only no output at all is a failure.
 */
export function outputOf(host: string, template: string, r: { stdout: string; stderr: string; code: number | null }): string {
  if (r.stdout.trim()) return r.stdout;
  const reason = r.stderr.trim().slice(0, 300);
  throw new UserError(msg(reason ? 'targets:command_failed' : 'targets:command_failed_silently', { template, host, code: r.code ?? 'killed', reason }));
}

/** The hostFacts template's output, split back into what df, meminfo, loadavg and nproc printed. */
export function splitHostFacts(text: string): { df: string; meminfo: string; loadavg: string; nproc: string } {
  const parts: Record<string, string> = {};
  let name = 'df';
  let start = 0;
  for (const m of text.matchAll(new RegExp(`^${FACTS_MARK}(\\w+)\\n`, 'gm'))) {
    parts[name] = text.slice(start, m.index);
    name = m[1];
    start = m.index! + m[0].length;
  }
  parts[name] = text.slice(start);
  const need = (k: string) => {
    if (!parts[k]?.trim()) throw new Error(`no ${k} output from the host`);
    return parts[k];
  };
  return { df: need('df'), meminfo: need('meminfo'), loadavg: need('loadavg'), nproc: need('nproc') };
}

/**
 * File systems that say nothing about disk space: the df template's `-x` list, and what df itself
 * leaves out as dummies (proc, sysfs, cgroup…; it also drops anything with no blocks at all).
 */
export const PSEUDO_FS = new Set([
  'tmpfs', 'devtmpfs', 'squashfs', 'efivarfs',
  'autofs', 'proc', 'subfs', 'debugfs', 'devpts', 'fusectl', 'fuse.portal', 'mqueue', 'rpc_pipefs', 'sysfs', 'devfs',
  'kernfs', 'ignore', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'hugetlbfs', 'nsfs', 'pstore',
  'securityfs', 'selinuxfs', 'tracefs', 'rootfs', 'ramfs',
]);

/** Network file systems: statfs on one can block a thread for as long as its server is gone. */
export const NETWORK_FS = /^(nfs\d?|cifs|smb\d?|ceph|glusterfs|lustre|afs|9p|fuse\.(sshfs|s3fs|rclone|glusterfs|ceph\w*))$/;

export interface Mount {
  device: string;
  mount: string;
  type: string;
}

/** /proc/self/mounts: "device mountpoint type options 0 0", with spaces and the like as \040 escapes. */
export function parseMounts(text: string): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3)
    .map(([device, mount, type]) => ({ device: unescape(device), mount: unescape(mount), type }));
}

/**
 * The mounts df -P lists, before it looks at their sizes: no pseudo file systems, no containers'
 * overlay roots (a root overlay, opsbot itself in a container, stays), and one entry per mount
 * point, the last mounted (the one visible there).
 */
export function diskMounts(mounts: Mount[]): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) {
    if (PSEUDO_FS.has(m.type) || (m.device === 'none' && m.type !== 'overlay')) continue;
    if (m.type === 'overlay' && m.mount !== '/') continue;
    byPoint.delete(m.mount); // re-inserted: the map keeps the mount table's order
    byPoint.set(m.mount, m);
  }
  return [...byPoint.values()];
}

/** statfs figures → the row df -P -k prints: sizes in KiB rounded up, Use% its own way. */
export function diskUsageOf(m: Mount, fs: { bsize: bigint; blocks: bigint; bfree: bigint; bavail: bigint }): DiskUsage {
  const kib = (blocks: bigint) => (blocks * fs.bsize + 1023n) / 1024n;
  const [size, used, avail] = [kib(fs.blocks), kib(fs.blocks - fs.bfree), kib(fs.bavail)];
  return {
    filesystem: m.device,
    size: humanSize(size * 1024n),
    used: humanSize(used * 1024n),
    avail: humanSize(avail * 1024n),
    usePercent: dfUsePercent(Number(used), Number(avail)),
    mount: m.mount,
    bytes: { used: Number(used) * 1024, avail: Number(avail) * 1024 },
  };
}
