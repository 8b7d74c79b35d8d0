/**
 * Templates for file archives (manual §2.3); see src/backup/files.ts. Constant bash scripts with
 * the values as positional parameters ("$1"…), never parsed as shell code.
 *
 * Both archive scripts stop their work when stdin ends (the caller runs them with `stdin: ''`):
 * the end of stdin means our side is gone (Stop was pressed, the SSH channel closed), and OpenSSH
 * ignores signals on root sessions. stdin is kept on fd 3 because a shell gives a background job
 * /dev/null as its stdin; `kill 0` then stops the whole pipeline (its process group), and the
 * host's `timeout` stays the backstop.
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

/** The archive of the paths not listed in `encrypt`, and the encrypted one of those that are. */
export const PLAIN_ARCHIVE = 'plain.tar.gz';
export const ENCRYPTED_ARCHIVE = 'encrypted.tar.gz.gpg';

function abs(path: string): string {
  if (!/^\/[^\0\n]*$/.test(path) || path.split('/').includes('..')) throw new UserError(msg('files:values.path', { path }));
  return path;
}

function paths(list: readonly string[]): string[] {
  if (!list.length) throw new UserError(msg('files:values.no_paths'));
  return list.map(abs);
}

/**
 * Prints one line per problem, "missing\t<path>", "unreadable\t<path>", "passphrase\t<file>",
 * "no_gpg" or "no_tar", and exits 1 when there is any; $1 is the passphrase file ("" when nothing
 * is encrypted), the rest are the paths to archive.
 */
// i18n-exempt: a shell script run on the host, not prose
const CHECK = `pass=$1; shift; bad=0
for p in "$@"; do
  if [ ! -e "$p" ]; then printf 'missing\\t%s\\n' "$p"; bad=1
  elif [ ! -r "$p" ]; then printf 'unreadable\\t%s\\n' "$p"; bad=1; fi
done
if [ -n "$pass" ]; then
  [ -f "$pass" ] && [ -r "$pass" ] && [ -s "$pass" ] || { printf 'passphrase\\t%s\\n' "$pass"; bad=1; }
  command -v gpg >/dev/null 2>&1 || { echo no_gpg; bad=1; }
fi
command -v tar >/dev/null 2>&1 || { echo no_tar; bad=1; }
exit $bad`;

/** Checks the paths again (they may have gone since the check) and makes them relative to "/". */
// i18n-exempt: a shell script run on the host, not prose
const PRELUDE = `set -o pipefail; umask 077
rel=()
for p in "$@"; do
  [ -e "$p" ] || { echo "missing: $p" >&2; exit 3; }
  r=\${p#/}; rel+=("\${r:-.}")
done
exec 3<&0 </dev/null
( cat <&3 >/dev/null; kill -TERM 0 ) >/dev/null 2>&1 & w=$!
exec 3<&-`;

/** The stop watcher is done with; a failed archive leaves no part behind. */
// i18n-exempt: a shell script run on the host, not prose
const FINISH = `kill "$w" 2>/dev/null
[ "$r" -eq 0 ] || rm -f -- "$out.part"
exit "$r"`;

/** $1: the archive; the rest: the paths. tar | gzip -1 (the fastest level: uploads are large). */
// i18n-exempt: a shell script run on the host, not prose
const TAR = `out=$1; shift
${PRELUDE}
tar -cf - -C / -- "\${rel[@]}" | gzip -1 > "$out.part" && mv -f -- "$out.part" "$out"; r=$?
${FINISH}`;

/**
 * $1: the archive; $2: the passphrase file; the rest: the paths. The tar stream goes through gzip
 * into gpg, so no plaintext archive of the keys is ever written to disk; only ciphertext lands in
 * "$out.part". gpg's own compression is off (the stream is gzipped already) and so is its
 * symmetric key cache (the agent keeps no passphrase).
 */
// i18n-exempt: a shell script run on the host, not prose
const TAR_GPG = `out=$1; pass=$2; shift 2
[ -f "$pass" ] && [ -r "$pass" ] && [ -s "$pass" ] || { echo "cannot read the passphrase file $pass" >&2; exit 3; }
${PRELUDE}
tar -cf - -C / -- "\${rel[@]}" | gzip | gpg --batch --yes --no-tty --pinentry-mode loopback --symmetric --cipher-algo AES256 \\
  --compress-algo none --no-symkey-cache --passphrase-file "$pass" -o "$out.part" && mv -f -- "$out.part" "$out"; r=$?
${FINISH}`;

export const filesTemplates = {
  /** What would make an archive fail or leave something out, found before any directory is made. */
  filesCheck: (passphraseFile: string, list: readonly string[]) =>
    ['sh', '-c', CHECK, 'opsbot-files-check', passphraseFile ? abs(passphraseFile) : '', ...paths(list)],
  /** <dir>/plain.tar.gz of the paths. */
  filesTar: (dir: string, list: readonly string[]) =>
    ['bash', '-c', TAR, 'opsbot-files-tar', `${abs(dir)}/${PLAIN_ARCHIVE}`, ...paths(list)],
  /** <dir>/encrypted.tar.gz.gpg of the paths: AES256, passphrase from a file on the host. */
  filesTarGpg: (dir: string, passphraseFile: string, list: readonly string[]) =>
    ['bash', '-c', TAR_GPG, 'opsbot-files-gpg', `${abs(dir)}/${ENCRYPTED_ARCHIVE}`, abs(passphraseFile), ...paths(list)],
} satisfies Record<string, (...args: never[]) => string[]>;
