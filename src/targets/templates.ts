/**
 * The only commands opsbot runs on a host. Each template is a function from typed values to an
 * argv array; HostExecutor.run() takes a template's name and its values, never a command. Values
 * reach the host as separate argv words (LocalHost: execFile, no shell) or as single-quoted words
 * (SshHost: commandLine()). Where a pipeline is needed, the script is a constant and the values
 * are its positional parameters ("$1", "$2"), so a value is never parsed as shell code.
 * `--` ends options before every file operand, so a path like "-rf" stays a path.
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { backupTemplates } from '../backup/templates.ts';
import { logTemplates } from '../logs/templates.ts';
import { securityTemplates } from '../security/templates.ts';
import { secretTemplates } from '../secrets/templates.ts';

/** Pseudo file systems say nothing about disk space (the manual's df -h lists real disks). */
const SKIP_FS = ['tmpfs', 'devtmpfs', 'squashfs', 'efivarfs'].flatMap((t) => ['-x', t]);

function count(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000_000) throw new UserError(msg('targets:values.count', { what, value: n }));
  return String(n);
}

function file(path: string): string {
  if (!path) throw new UserError(msg('targets:values.file_required'));
  return path;
}

function hostname(host: string): string {
  // bash opens /dev/tcp/HOST/PORT itself; a "/" would change which part is the port.
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) throw new UserError(msg('targets:values.not_host', { value: JSON.stringify(host) }));
  return host;
}

function port(p: number): string {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new UserError(msg('targets:values.not_port', { value: p }));
  return String(p);
}

// Prints how many of the last $1 lines of file $2 contain the fixed string $3. The readability
// test comes first because in a pipeline only grep's status survives, and a missing file would
// otherwise read as "0 matches".
const COUNT_IN_LAST_LINES = [
  '[ -f "$2" ] && [ -r "$2" ] || { echo "cannot read $2" >&2; exit 2; }',
  'tail -n "$1" -- "$2" | grep -c -F -e "$3"',
].join('\n');

// The lines of file $2 from the last $1 minutes that contain the fixed string $3. A line's time
// is its leading "YYYY-MM-DD HH:MM:SS" (or with "T"), in the host's local time, which is how
// Python's logging writes it. A line without one (a traceback line) belongs to the record above
// it; lines before the first timestamp are of unknown age and are left out. The cut-off comes
// from the host's own clock and time zone. awk reads the file from stdin and the pattern from
// the environment, because awk takes operands of the form a=b as assignments.
const SINCE_PRELUDE = [
  'case $1 in ""|*[!0-9]*) echo "bad minutes: $1" >&2; exit 2;; esac',
  '[ -f "$2" ] && [ -r "$2" ] || { echo "cannot read $2" >&2; exit 2; }',
  'now=$(date +%s) && cutoff=$(date -d "@$((now - $1 * 60))" "+%Y-%m-%d %H:%M:%S") || exit 2',
  'OPSBOT_PATTERN=$3 && export OPSBOT_PATTERN',
];
const STAMPED = '/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][ T][0-9][0-9]:[0-9][0-9]:[0-9][0-9]/ { inside = (substr($0, 1, 10) " " substr($0, 12, 8) >= cutoff) }';
const MATCHES = 'inside && (ENVIRON["OPSBOT_PATTERN"] == "" || index($0, ENVIRON["OPSBOT_PATTERN"]))';

// How many such lines there are.
// i18n-exempt: a shell script run on the host
const COUNT_IN_LAST_MINUTES = [...SINCE_PRELUDE, `exec awk -v cutoff="$cutoff" '${STAMPED} ${MATCHES} { n++ } END { print n + 0 }' < "$2"`].join('\n');
// The newest $4 of them ($3 empty: every line).
const LINES_SINCE = [...SINCE_PRELUDE, `awk -v cutoff="$cutoff" '${STAMPED} ${MATCHES}' < "$2" | tail -n "$4"`].join('\n');

// The last $1 lines of file $2 that contain the fixed string $3 (the newest matches, for /logs).
const GREP_LAST = [
  '[ -f "$2" ] && [ -r "$2" ] || { echo "cannot read $2" >&2; exit 2; }',
  'grep -F -e "$3" -- "$2" | tail -n "$1"',
].join('\n');

// Manual §6.3: tail -f logs/error.log | grep -i "error\|exception", over the last $1 lines of $2.
const ERRORS_IN_LAST_LINES = [
  '[ -f "$2" ] && [ -r "$2" ] || { echo "cannot read $2" >&2; exit 2; }',
  'tail -n "$1" -- "$2" | grep -i -F -e error -e exception',
].join('\n');

/** Separates the parts of hostFacts' output; a line no df, meminfo or loadavg output can hold. */
export const FACTS_MARK = '@@opsbot@@';

// df, /proc/meminfo, /proc/loadavg and nproc in one session. Every SSH command starts the user's
// login shell, and a shell rc file can cost 100 ms of CPU (pyenv, nvm): one session per /health
// instead of four keeps both the latency and the load on the checked host down.
const HOST_FACTS = [
  `df -P -k ${SKIP_FS.join(' ')}`,
  `echo ${FACTS_MARK}meminfo; cat /proc/meminfo`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}loadavg; cat /proc/loadavg`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}nproc; nproc`, // i18n-exempt: shell command
].join('\n');

// Manual §4.2 (ps aux --sort=-%mem | head): the top $1 processes by CPU and by resident memory,
// with load, cores and meminfo, in one session for the reason HOST_FACTS gives. Sorting and the
// cut happen on the host, so a machine with thousands of processes sends a few lines, not all.
// `ww`: the command line is not cut to 80 columns when stdout is a pipe.
const PS_COLUMNS = 'pid=,pcpu=,pmem=,rss=,user=,args=';
const PERF_FACTS = [
  'case $1 in ""|*[!0-9]*) echo "bad count: $1" >&2; exit 2;; esac',
  `echo ${FACTS_MARK}loadavg; cat /proc/loadavg`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}nproc; nproc`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}meminfo; cat /proc/meminfo`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}cpu; ps -ww -eo ${PS_COLUMNS} --sort=-pcpu | head -n "$1"`, // i18n-exempt: shell command
  `echo ${FACTS_MARK}mem; ps -ww -eo ${PS_COLUMNS} --sort=-rss | head -n "$1"`, // i18n-exempt: shell command
].join('\n');

export const templates = {
  /** Load, cores, meminfo, and the top `n` processes by CPU and by memory (see PERF_FACTS). */
  perfFacts: (n: number) => ['sh', '-c', PERF_FACTS, 'opsbot-perf', count(n, 'processes')],
  /** df, meminfo, loadavg and nproc together, each after a FACTS_MARK line naming it. */
  hostFacts: () => ['sh', '-c', HOST_FACTS],
  /** Disk space per mount, in 1K blocks; the Use% column is df's own. */
  df: () => ['df', '-P', '-k', ...SKIP_FS],
  /** The same for the given mount points only (LocalHost reads the others with statfs). */
  dfPaths: (paths: string[]) => ['df', '-P', '-k', '--', ...paths.map(file)],
  meminfo: () => ['cat', '/proc/meminfo'],
  /** "0.52 0.58 0.59 1/467 12345" */
  loadavg: () => ['cat', '/proc/loadavg'],
  /** CPUs this process may use. */
  nproc: () => ['nproc'],
  /** The last `lines` lines of a file (manual §1.1: tail logs/app.log). */
  tail: (path: string, lines: number) => ['tail', '-n', count(lines, 'lines'), '--', file(path)],
  /** Every line of a file containing `pattern` literally (not a regex). */
  grepFixed: (pattern: string, path: string) => ['grep', '-F', '-e', pattern, '--', file(path)],
  /** The newest `lines` lines of a file that contain `pattern` literally. */
  grepLast: (pattern: string, path: string, lines: number) => ['sh', '-c', GREP_LAST, 'opsbot-grep-last', count(lines, 'lines'), file(path), pattern],
  /** Manual §6.3: grep -c "ERROR" logs/app.log. Exit 1 with "0" when nothing matches. */
  grepCount: (pattern: string, path: string) => ['grep', '-c', '-F', '-e', pattern, '--', file(path)],
  /** Lines containing `pattern` among the last `lines` lines of a file. */
  countInLastLines: (pattern: string, path: string, lines: number) =>
    ['sh', '-c', COUNT_IN_LAST_LINES, 'opsbot-count', count(lines, 'lines'), file(path), pattern],
  /** Lines containing `pattern` written in the last `minutes` minutes (see SINCE_PRELUDE). */
  countInLastMinutes: (pattern: string, path: string, minutes: number) =>
    ['sh', '-c', COUNT_IN_LAST_MINUTES, 'opsbot-count', count(minutes, 'minutes'), file(path), pattern],
  /** The newest `lines` lines written in the last `minutes` minutes, containing `pattern` ('' for all; see SINCE_PRELUDE). */
  linesSince: (path: string, minutes: number, lines: number, pattern: string) =>
    ['sh', '-c', LINES_SINCE, 'opsbot-since', count(minutes, 'minutes'), file(path), pattern, count(lines, 'lines')],
  /** Manual §6.3's monitor filter: lines with "error" or "exception", any case, in the last `lines`. */
  errorLines: (path: string, lines: number) => ['sh', '-c', ERRORS_IN_LAST_LINES, 'opsbot-errors', count(lines, 'lines'), file(path)],
  /** Listening TCP sockets: State Recv-Q Send-Q Local-Address:Port Peer-Address:Port. */
  listening: () => ['ss', '-ltn'],
  /** Exit 0 when a TCP connection to host:port opens within 3 s (bash's /dev/tcp, no nc needed). */
  tcpProbe: (host: string, p: number) => ['timeout', '3', 'bash', '-c', 'exec 3<>"/dev/tcp/$1/$2"', 'opsbot-probe', hostname(host), port(p)],
  /** "SIZE MTIME": bytes and seconds since the epoch, following symlinks. */
  stat: (path: string) => ['stat', '-L', '-c', '%s %Y', '--', file(path)],
  ...backupTemplates,
  ...logTemplates,
  ...securityTemplates,
  ...secretTemplates,
} satisfies Record<string, (...args: never[]) => string[]>;

export type Templates = typeof templates;
export type TemplateName = keyof Templates;

export interface RunOptions {
  /** Default: the host's timeout. The command is killed when it passes. */
  timeoutMs?: number;
  /**
   * Written to the command's stdin, which is then left open (see the backup templates: a secret
   * is read from the first line, and the end of stdin tells the command its caller is gone).
   */
  stdin?: string;
  /** Stops the command (and rejects with AbortedError) when aborted, e.g. Stop on a backup's card. */
  signal?: AbortSignal;
  /** Bytes of stdout kept (default 256 KiB); past it the command is stopped. */
  maxBytes?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit status; null when the command was stopped (output cap) or died by a signal. */
  code: number | null;
  /** stdout was cut at maxBytes; it ends with OutputCap's marker. */
  truncated: boolean;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;
/** stderr is for error messages; more than this is noise and is cut without stopping the command. */
const MAX_STDERR = 16 * 1024;

/** buf without a UTF-8 sequence cut short at its end (the cap falls at a byte, not a character). */
function dropPartialChar(buf: Buffer): Buffer {
  let i = buf.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buf[i] & 0xc0) === 0x80) {
    i--;
    continuation++;
  }
  if (i < 0) return buf;
  const lead = buf[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > continuation + 1 ? buf.subarray(0, i) : buf;
}

/**
 * Collects one stream up to a byte limit. Output past the limit is dropped and marked, so a huge
 * log never sits in memory; `push` returns false once the limit is reached, so the caller can
 * stop the command rather than let it run on into the void.
 */
export class OutputCap {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): boolean {
    if (this.truncated) return false;
    if (this.size + chunk.length > this.max) {
      this.chunks.push(chunk.subarray(0, this.max - this.size));
      this.size = this.max;
      this.truncated = true;
      return false;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    if (!this.truncated) return all.toString('utf8');
    const body = dropPartialChar(all).toString('utf8');
    // i18n-exempt: a marker inside the command's own output (log lines), which is not translated
    return `${body}${body.endsWith('\n') || !body ? '' : '\n'}… [output cut at ${this.max} bytes]`;
  }

  static forStderr(): OutputCap {
    return new OutputCap(MAX_STDERR);
  }
}
