/**
 * What /secrets rotate runs on the secret's host (manual §5.2). They join the host templates
 * (src/targets/templates.ts): constant scripts whose values arrive as positional parameters, never
 * parsed as shell code. A secret value never appears in an argument: the new one arrives on
 * stdin, and the old one never leaves the host (it is encrypted there, and kept as a hard link
 * until the rotation is over, so that putting it back is one rename).
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

function abs(path: string): string {
  if (!/^\/[^\0\n]*$/.test(path) || path.split('/').includes('..')) throw new UserError(msg('secrets:values.path', { path }));
  return path;
}

function bytes(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > 1 << 20) throw new UserError(msg('secrets:values.bytes', { n }));
  return String(n);
}

/**
 * $1 the file, $2 the passphrase file, $3 the directory for the encrypted copy, $4 the rollback
 * link. One line per problem ("symlink", "missing", "unreadable", "dir", "owner", "leftover",
 * "keep_dir", "passphrase", "no_gpg"), then "stat MODE UID GID MTIME SIZE" when the file exists.
 */
// i18n-exempt: a shell script run on the host, not prose
const CHECK = `f=$1; pass=$2; keep=$3; old=$4
if [ -L "$f" ]; then echo symlink; fi
if [ ! -f "$f" ]; then echo missing; else
  [ -r "$f" ] || echo unreadable
  me=$(id -u); [ "$me" = 0 ] || [ "$(stat -c %u -- "$f")" = "$me" ] || echo owner
  echo "stat $(stat -c '%a %u %g %Y %s' -- "$f")"
fi
d=$(dirname -- "$f"); [ -d "$d" ] && [ -w "$d" ] || echo dir
if [ -e "$old" ] || [ -L "$old" ]; then echo leftover; fi
[ -d "$keep" ] && [ -w "$keep" ] || echo keep_dir
[ -f "$pass" ] && [ -r "$pass" ] && [ -s "$pass" ] || echo passphrase
command -v gpg >/dev/null 2>&1 || echo no_gpg
exit 0`;

/** $1 the file, $2 the encrypted copy to make, $3 the passphrase file: AES256, as file backups encrypt keys. */
// i18n-exempt: a shell script run on the host, not prose
const KEEP = `umask 077
gpg --batch --yes --no-tty --pinentry-mode loopback --symmetric --cipher-algo AES256 --no-symkey-cache \\
  --passphrase-file "$3" -o "$2.part" -- "$1" </dev/null && mv -f -- "$2.part" "$2" && exit 0
r=$?; rm -f -- "$2.part"; exit "$r"`;

/**
 * $1 the file, $2 the new value's length in bytes (the value is on stdin), $3 the rollback link.
 * The value goes into a temp file in the same directory (mktemp: mode 600), which is given the
 * file's mode and owner; the current file is hard-linked as $3; then one rename puts the new file
 * in place. Exit 4: the new value is the old one. Nothing is left behind on any failure.
 */
// i18n-exempt: a shell script run on the host, not prose
const WRITE = `f=$1; n=$2; old=$3
case $n in ""|*[!0-9]*) echo "bad length" >&2; exit 2;; esac
[ -f "$f" ] && [ ! -L "$f" ] || { echo "not a regular file: $f" >&2; exit 3; }
d=$(dirname -- "$f"); b=$(basename -- "$f")
tmp=$(mktemp "$d/.$b.opsbot-new.XXXXXX") || exit 3
trap 'rm -f -- "$tmp"' EXIT
head -c "$n" > "$tmp" || exit 3
[ "$(wc -c < "$tmp")" -eq "$n" ] || { echo "the new value was not written whole" >&2; exit 3; }
if cmp -s -- "$tmp" "$f"; then exit 4; fi
mode=$(stat -c %a -- "$f") && own=$(stat -c %u:%g -- "$f") || exit 3
chmod -- "$mode" "$tmp" || exit 3
[ "$(stat -c %u:%g -- "$tmp")" = "$own" ] || chown -- "$own" "$tmp" || { echo "cannot give the new file the owner $own" >&2; exit 3; }
ln -f -- "$f" "$old" || { echo "cannot link the current file as $old" >&2; exit 3; }
mv -f -- "$tmp" "$f" || { rm -f -- "$old"; exit 3; }
exit 0`;

/**
 * $1 the file, $2 the rollback link: the old file back in place, by one rename. Exit 5: there is
 * no link, so the write never reached its rename (WRITE links first, and removes the link when its
 * rename fails; the pre-check refuses to start beside an old link): the file was never replaced.
 */
// i18n-exempt: a shell script run on the host, not prose
const RESTORE = `[ -f "$2" ] || { echo "$2 is not there: the file was not replaced" >&2; exit 5; }
mv -f -- "$2" "$1"`;

export const secretTemplates = {
  /** Problems that would stop a rotation, and the file's mode, owner, mtime and size (see CHECK). */
  secretCheck: (file: string, passphraseFile: string, keepDir: string, oldLink: string) =>
    ['sh', '-c', CHECK, 'opsbot-secret-check', abs(file), abs(passphraseFile), abs(keepDir), abs(oldLink)],
  /**
   * A generate command from config (argv, as written there; never user input), with no stdin.
   * Its stdout is the new value.
   */
  secretGenerate: (argv: readonly string[]) => {
    if (!argv.length) throw new UserError(msg('secrets:values.command'));
    return ['sh', '-c', 'exec "$@" </dev/null', 'opsbot-secret-generate', ...argv];
  },
  secretKeep: (file: string, out: string, passphraseFile: string) => ['sh', '-c', KEEP, 'opsbot-secret-keep', abs(file), abs(out), abs(passphraseFile)],
  /** Give the value as RunOptions.stdin and its length in bytes here. */
  secretWrite: (file: string, n: number, oldLink: string) => ['sh', '-c', WRITE, 'opsbot-secret-write', abs(file), bytes(n), abs(oldLink)],
  secretRestore: (file: string, oldLink: string) => ['sh', '-c', RESTORE, 'opsbot-secret-restore', abs(file), abs(oldLink)],
  /** The rollback link, once the rotation is over. */
  secretRelease: (oldLink: string) => ['rm', '-f', '--', abs(oldLink)],
} satisfies Record<string, (...args: never[]) => string[]>;
