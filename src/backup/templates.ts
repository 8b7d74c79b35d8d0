/**
 * The commands backups run where `run_on` says (the bot's machine or an SSH host). They join the
 * host templates (src/targets/templates.ts): fixed programs and scripts, values as separate argv
 * words or positional parameters, never parsed as shell code.
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { filesTemplates } from './files-templates.ts';
import { copyTemplates } from './copy-templates.ts';

/** Backup ids as made by ids.ts: "<target>-<yyyymmddThhmmssZ>" with an optional mode suffix. */
export const BACKUP_ID = /^[a-z0-9][a-z0-9_-]*-\d{8}T\d{6}Z(-(data|schema|files))?$/;

function abs(path: string): string {
  if (!/^\/[^\0\n]*$/.test(path) || path.split('/').includes('..')) throw new UserError(msg('backup:values.path', { path }));
  return path;
}

function backupId(id: string): string {
  if (!BACKUP_ID.test(id)) throw new UserError(msg('backup:values.id', { id }));
  return id;
}

function jobs(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UserError(msg('backup:values.jobs', { n }));
  return String(n);
}

function major(v: number): string {
  if (!Number.isInteger(v) || v < 9 || v > 99) throw new UserError(msg('backup:values.major', { v }));
  return String(v);
}

/** A libpq connection URL without a password (the password goes on stdin, never in argv). */
function conninfo(url: string): string {
  const u = new URL(url);
  if (!/^postgres(ql)?:$/.test(u.protocol) || u.password) throw new UserError(msg('backup:values.conninfo'));
  return url;
}

/**
 * Runs "$@" with PGPASSWORD from stdin's first line (empty: none, e.g. peer or .pgpass), and
 * stops it when stdin ends: the end of stdin means our side is gone (the SSH channel closed, or
 * Stop was pressed and the local process group killed). OpenSSH ignores signals on root
 * sessions, so this is how a remote pg_dump learns it should stop; `timeout` is the backstop.
 * stdin is kept as fd 3 for the watcher: dash gives a background job /dev/null as its stdin.
 */
// i18n-exempt: a shell script run on the dump machine, not prose
const WITH_PASSWORD = `IFS= read -r PGPASSWORD || exit 97
if [ -n "$PGPASSWORD" ]; then export PGPASSWORD; else unset PGPASSWORD; fi
exec 3<&0
"$@" </dev/null 3<&- & p=$!
( cat <&3 >/dev/null; kill -TERM "$p" ) >/dev/null 2>&1 & w=$!
exec 3<&-
wait "$p"; r=$?
kill "$w" 2>/dev/null
exit $r`;
const withPassword = (argv: string[]) => ['sh', '-c', WITH_PASSWORD, 'opsbot-pg', ...argv];

/** The bin directory holding pg_dump of major version $1 (Debian, RHEL, then PATH), and its version. */
// i18n-exempt: a shell script run on the dump machine, not prose
const PG_TOOLS = `for b in "/usr/lib/postgresql/$1/bin" "/usr/pgsql-$1/bin"; do
  if [ -x "$b/pg_dump" ] && [ -x "$b/pg_restore" ]; then echo "$b"; "$b/pg_dump" --version; exit 0; fi
done
b=$(command -v pg_dump) || { echo "pg_dump: not found" >&2; exit 127; }
dirname -- "$b"; "$b" --version`;

/** Bytes under $1, then how many table data files it holds (a dump's progress). */
const DIR_STATS = 'du -sb -- "$1" | cut -f1; find "$1" -type f -name "*.dat*" | wc -l';

/** sha256 of every file under $1 except the manifest, as "HASH  ./name" lines. */
const SHA256_FILES = 'cd -- "$1" && find . -type f ! -name manifest.json -exec sha256sum -- {} +';

/**
 * Writes the first $2 bytes of stdin to $1 atomically, readable by the owner only. On stdin, not
 * in argv: a manifest of a database with thousands of tables is larger than one argument may be.
 */
const WRITE_TEXT = 'umask 077; head -c "$2" > "$1.part" && [ "$(wc -c < "$1.part")" -eq "$2" ] && mv -f -- "$1.part" "$1"';

export const backupTemplates = {
  /** Line 1: the bin dir of pg_dump/pg_restore for the server's major version; line 2: pg_dump --version. */
  pgTools: (serverMajor: number) => ['sh', '-c', PG_TOOLS, 'opsbot-pgtools', major(serverMajor)],
  /**
   * Directory format, `jobs` workers, inside the exported snapshot the bot counts rows in, so the
   * manifest's counts are the dump's. Password on stdin (WITH_PASSWORD).
   */
  pgDump: (bin: string, url: string, dir: string, n: number, compress: string, mode: 'full' | 'data-only' | 'schema-only', snapshot: string) =>
    withPassword([
      `${abs(bin)}/pg_dump`, '--format=directory', `--jobs=${jobs(n)}`, `--compress=${compress}`, '--no-password',
      ...(snapshot ? [`--snapshot=${snapshot}`] : []),
      ...(mode === 'data-only' ? ['--data-only'] : mode === 'schema-only' ? ['--schema-only'] : []),
      '--file', abs(dir), '--dbname', conninfo(url),
    ]),
  /** Restores a directory-format dump into an existing, empty database; stops at the first error. */
  pgRestore: (bin: string, url: string, dir: string, n: number) =>
    withPassword([`${abs(bin)}/pg_restore`, `--jobs=${jobs(n)}`, '--exit-on-error', '--no-password', '--dbname', conninfo(url), '--', abs(dir)]),
  dirStats: (dir: string) => ['sh', '-c', DIR_STATS, 'opsbot-dirstats', abs(dir)],
  sha256Files: (dir: string) => ['sh', '-c', SHA256_FILES, 'opsbot-sha256', abs(dir)],
  /** "BYTES name" for every file under dir except the manifest. */
  fileSizes: (dir: string) => ['find', abs(dir), '-type', 'f', '!', '-name', 'manifest.json', '-printf', '%s %P\\n'],
  /** Creates a backup directory (and its parents), private to the owner. */
  mkdirPrivate: (dir: string) => ['mkdir', '-p', '-m', '700', '--', abs(dir)],
  /** Give the text as RunOptions.stdin and its length in bytes here (writeTextOn does both). */
  writeText: (path: string, bytes: number) => ['sh', '-c', WRITE_TEXT, 'opsbot-write', abs(path), String(Math.max(0, Math.floor(bytes)))],
  readText: (path: string) => ['cat', '--', abs(path)],
  /** Removes one backup: only a name that is a backup id, under the configured directory. */
  removeBackup: (root: string, id: string) => ['rm', '-rf', '--', `${abs(root)}/${backupId(id)}`],
  ...filesTemplates,
  ...copyTemplates,
} satisfies Record<string, (...args: never[]) => string[]>;
