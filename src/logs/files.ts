/** Reads the logFiles template's listing: each live log with its size, and its rotated siblings. */
import { posix } from 'node:path';
import type { HostExecutor } from '../targets/types.ts';
import { UnavailableError } from '../core/errors.ts';
import { LOG_MARK } from './templates.ts';
import { parseRotated, type RotatedName } from './names.ts';

export interface FileStat {
  path: string;
  size: number;
  /** Seconds since the epoch, whole (as stat %Y gives it: what the removal re-check compares). */
  mtime: number;
}

export interface RotatedFile extends FileStat, RotatedName {}

export interface LogListing {
  log: string;
  /** null when the live log does not exist. */
  live: FileStat | null;
  rotated: RotatedFile[];
  /** Its directory could not be read: nothing is known about rotated files. */
  unreadableDir: boolean;
}

export function parseListing(stdout: string): LogListing[] {
  const out: LogListing[] = [];
  let cur: LogListing | undefined;
  for (const line of stdout.split('\n')) {
    const [kind, ...rest] = line.split('\t');
    if (kind === LOG_MARK) {
      cur = { log: rest.join('\t'), live: null, rotated: [], unreadableDir: false };
      out.push(cur);
    } else if (!cur) continue;
    else if (kind === 'nodir') cur.unreadableDir = true;
    else if (kind === 'live' || kind === 'file') {
      const [size, mtime, ...p] = rest;
      const stat = { path: p.join('\t'), size: Number(size), mtime: Math.floor(Number(mtime)) };
      if (!Number.isFinite(stat.size) || !Number.isFinite(stat.mtime)) continue;
      if (kind === 'live') cur.live = stat;
      else {
        // find prints "<dir>/<name>"; only a true sibling with a rotated name counts.
        const name = parseRotated(posix.basename(cur.log), posix.basename(stat.path));
        if (name && posix.dirname(stat.path) === posix.dirname(cur.log)) cur.rotated.push({ ...stat, ...name });
      }
    }
  }
  for (const l of out) l.rotated.sort((a, b) => b.mtime - a.mtime || a.path.localeCompare(b.path));
  return out;
}

/** Lists the live logs and their rotated siblings on one host. */
export async function listLogs(host: HostExecutor, logs: string[]): Promise<LogListing[]> {
  const res = await host.run('logFiles', [logs], { maxBytes: 4 * 1024 * 1024 });
  if (res.code !== 0 && !res.stdout) throw new UnavailableError(`${host.name}: ${res.stderr.trim() || `exit ${res.code}`}`);
  return parseListing(res.stdout);
}
