/**
 * Templates for off-host copies (src/backup/copy.ts), run on the copy host. A copy is received
 * into "<dir>/<id>.part" and renamed to "<dir>/<id>" only once its checksums match, so a half
 * copy never looks complete, and pruning (removeBackup "<dir>" "<id>") finds the finished one.
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

function abs(path: string): string {
  if (!/^\/[^\0\n]*$/.test(path) || path.split('/').includes('..')) throw new UserError(msg('backup:values.path', { path }));
  return path;
}

/** One path component: a backup id (checked as such where ids are made), never "..", never a slash. */
function name(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) || id.includes('..')) throw new UserError(msg('backup:values.id', { id }));
  return id;
}

const under = (root: string, leaf: string) => `${abs(root) === '/' ? '' : root}/${leaf}`;

/**
 * Unpacks the tar stream on stdin into a new directory $1, private to the owner, whoever the
 * archive says owned the files. An existing $1 is an error: nothing is merged into old data.
 */
// i18n-exempt: a shell script run on the copy host, not prose
const RECEIVE_TAR = 'umask 077; mkdir -m 700 -- "$1" && exec tar -C "$1" --no-same-owner --no-same-permissions -xf -';

/** Renames the checked copy $1 to its final name $2; a finished copy of the same id is replaced. */
// i18n-exempt: a shell script run on the copy host, not prose
const FINISH = 'if [ -e "$2" ]; then rm -rf -- "$2" || exit 1; fi; mv -T -- "$1" "$2"';

export const copyTemplates = {
  /** The copy's working name: "<root>/<id>.part". */
  receiveTar: (root: string, id: string) => ['sh', '-c', RECEIVE_TAR, 'opsbot-receive', under(root, `${name(id)}.part`)],
  /** Removes what an earlier, unfinished copy of this id left. */
  removePart: (root: string, id: string) => ['rm', '-rf', '--', under(root, `${name(id)}.part`)],
  /** "<root>/<id>.part" → "<root>/<id>". */
  finishCopy: (root: string, id: string) => ['sh', '-c', FINISH, 'opsbot-finish', under(root, `${name(id)}.part`), under(root, name(id))],
} satisfies Record<string, (...args: never[]) => string[]>;
