/**
 * Templates for /logs rotation and /logs cleanup (manual §1.2). Constant scripts; the paths come
 * from config (or from a listing the same templates made) and reach the host as positional
 * parameters, never as shell code.
 */
import { posix } from 'node:path';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { isRotatedOf } from './names.ts';

/** Separates the parts of a listing; a line no stat, find or config file prints. */
export const LOG_MARK = '@@opsbot-logs@@';

// For each live log: a mark line naming it, then its own size and mtime ("live"), then every
// file beside it whose name starts with its name and "." or "-" ("file"). The name filter here
// is only a narrowing; names.ts decides what is a rotated sibling.
// i18n-exempt: a shell script run on the host
const LIST = `for p in "$@"; do
  printf '${LOG_MARK}\\t%s\\n' "$p"
  if [ -e "$p" ]; then stat -L --printf 'live\\t%s\\t%Y\\t%n\\n' -- "$p" || true; else printf 'missing\\t%s\\n' "$p"; fi
  d=$(dirname -- "$p"); b=$(basename -- "$p")
  if [ -d "$d" ] && [ -r "$d" ]; then
    find "$d" -mindepth 1 -maxdepth 1 -type f -name "$b[.-]*" -printf 'file\\t%s\\t%T@\\t%p\\n'
  else printf 'nodir\\t%s\\n' "$d"; fi
done`;

// Every readable logrotate file among the paths (a directory: its files), each after a mark line.
// i18n-exempt: a shell script run on the host
const LOGROTATE = `for p in "$@"; do
  if [ -d "$p" ]; then set -- "$p"/*; else set -- "$p"; fi
  for f in "$@"; do
    [ -f "$f" ] && [ -r "$f" ] || continue
    printf '${LOG_MARK}\\t%s\\n' "$f"; cat -- "$f"; echo
  done
done`;

// Deletes each file of the triples (path, size, mtime) only while it is still a regular file of
// exactly that size and mtime: what was approved is what goes, and a file rewritten since (a
// rotation ran) stays. One line per file says what happened.
// i18n-exempt: a shell script run on the host
const REMOVE = `while [ $# -ge 3 ]; do
  p=$1; s=$2; m=$3; shift 3
  if [ -L "$p" ] || [ ! -f "$p" ]; then printf 'gone\\t%s\\n' "$p"; continue; fi
  cur=$(stat -c '%s %Y' -- "$p" 2>/dev/null) || { printf 'gone\\t%s\\n' "$p"; continue; }
  if [ "$cur" != "$s $m" ]; then printf 'changed\\t%s\\t%s\\n' "$cur" "$p"; continue; fi
  if rm -f -- "$p"; then printf 'removed\\t%s\\t%s\\n' "$s" "$p"; else printf 'failed\\t%s\\n' "$p"; fi
done`;

export interface RemoveEntry {
  /** The live log it was rotated from. */
  log: string;
  path: string;
  size: number;
  mtime: number;
}

function logPath(path: string): string {
  if (!path || path.includes('\n') || path.includes('\0')) throw new UserError(msg('logs:values.path', { path: JSON.stringify(path) }));
  return path;
}

/** A path may only be deleted when it is a rotated sibling of its live log, never the log itself. */
function rotated(e: RemoveEntry): string[] {
  const ok = posix.dirname(e.path) === posix.dirname(e.log) && isRotatedOf(posix.basename(e.log), posix.basename(e.path));
  if (!ok || !Number.isSafeInteger(e.size) || !Number.isSafeInteger(e.mtime)) throw new UserError(msg('logs:values.not_rotated', { path: e.path }));
  return [e.path, String(e.size), String(e.mtime)];
}

export const logTemplates = {
  /** The live logs and their siblings: "live|file\tSIZE\tMTIME\tPATH", after a LOG_MARK line per log. */
  logFiles: (paths: string[]) => ['sh', '-c', LIST, 'opsbot-log-files', ...paths.map(logPath)],
  /** The readable logrotate configs among these paths (directories: their files). */
  logrotateConfigs: (paths: string[]) => ['sh', '-c', LOGROTATE, 'opsbot-logrotate', ...paths.map(logPath)],
  /** Deletes rotated logs that still have the planned size and mtime. */
  removeRotatedLogs: (files: RemoveEntry[]) => ['sh', '-c', REMOVE, 'opsbot-log-cleanup', ...files.flatMap(rotated)],
} satisfies Record<string, (...args: never[]) => string[]>;
