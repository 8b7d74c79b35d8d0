/**
 * The one shell-quoting helper. A remote command over SSH is a single string that the login
 * shell parses, so every argument of a template passes through here; nothing else builds
 * command lines (DESIGN.md, Security rules). Assumes a POSIX login shell (sh, bash, dash, zsh):
 * csh and fish treat single quotes differently.
 */

// Characters no POSIX shell treats specially anywhere in a word. Words made only of these are
// left bare so logged command lines stay readable; everything else is single-quoted. `=` is not
// among them: a bare first word `A=b` would be an assignment, not a program.
const SAFE = /^[A-Za-z0-9_\/.,:@%+-]+$/;

/** One argument as a POSIX shell word: inside single quotes nothing is special except `'`. */
export function shellQuote(arg: string): string {
  // A NUL cannot be passed in argv at all; the shell would cut the word there.
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  if (SAFE.test(arg)) return arg;
  // Close the quote, emit an escaped quote, reopen: ' → '\''
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv → a command line whose shell parse gives back exactly argv. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(shellQuote).join(' ');
}
