import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

/**
 * Redis's glob, as SCAN MATCH and KEYS read it, over bytes: `*`, `?`, `[abc]`, `[^a-z]` and `\`
 * escapes. The bot matches protected patterns itself (to skip those keys) and counts matches
 * within a scan of the whole keyspace, so it must agree with the server byte for byte: keys are
 * bytes, not text, and a key that is not UTF-8 must still match as Redis would match it.
 */
type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'byte'; byte: number }
  | { kind: 'set'; negate: boolean; ranges: Array<[number, number]> };

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

/** The longest pattern accepted; Slack caps the whole command far below any real need. */
export const MAX_PATTERN_BYTES = 1024;

export type GlobProblem = 'empty' | 'too_long' | 'control' | 'unclosed_set' | 'trailing_escape';

/**
 * Splits a pattern the way Redis's stringmatchlen walks it. Where Redis would quietly do
 * something surprising (an unclosed `[` swallowing the rest, a lone `\` at the end matching a
 * backslash), the pattern is refused instead: someone about to delete keys should not rely on it.
 */
function tokenize(p: Buffer): Token[] | GlobProblem {
  const out: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === STAR) {
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === QUESTION) out.push({ kind: 'any' });
    else if (c === BACKSLASH) {
      if (i + 1 >= p.length) return 'trailing_escape';
      out.push({ kind: 'byte', byte: p[++i] });
    } else if (c === OPEN) {
      const set: Token & { kind: 'set' } = { kind: 'set', negate: false, ranges: [] };
      i++;
      if (p[i] === CARET) {
        set.negate = true;
        i++;
      }
      for (;; i++) {
        if (i >= p.length) return 'unclosed_set';
        if (p[i] === BACKSLASH && i + 1 < p.length) {
          i++;
          set.ranges.push([p[i], p[i]]);
        } else if (p[i] === CLOSE) break;
        // As Redis: "a-z" is a range whenever two more bytes follow, even when the end is "]".
        else if (p[i + 1] === DASH && i + 2 < p.length) {
          const [a, b] = [p[i], p[i + 2]];
          set.ranges.push(a <= b ? [a, b] : [b, a]);
          i += 2;
        } else set.ranges.push([p[i], p[i]]);
      }
      out.push(set);
    } else out.push({ kind: 'byte', byte: c });
  }
  return out;
}

function one(tok: Token, b: number): boolean {
  switch (tok.kind) {
    case 'any':
      return true;
    case 'byte':
      return tok.byte === b;
    case 'set': {
      const hit = tok.ranges.some(([lo, hi]) => b >= lo && b <= hi);
      return tok.negate ? !hit : hit;
    }
    case 'star':
      return false;
  }
}

/**
 * Every token but `*` takes exactly one byte, so backtracking to the last star is enough: linear
 * in practice and O(pattern × key) at worst, where a naive recursion is exponential on patterns
 * like `*a*a*a*b`.
 */
function matchTokens(tokens: Token[], key: Uint8Array): boolean {
  let ti = 0;
  let ki = 0;
  let starTi = -1;
  let starKi = 0;
  while (ki < key.length) {
    const tok = tokens[ti];
    if (tok?.kind === 'star') {
      starTi = ti++;
      starKi = ki;
    } else if (tok && one(tok, key[ki])) {
      ti++;
      ki++;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      ki = ++starKi;
    } else return false;
  }
  while (tokens[ti]?.kind === 'star') ti++;
  return ti === tokens.length;
}

export interface Glob {
  readonly pattern: string;
  /** Whether the pattern has no wildcard: it names one key. */
  readonly literal: boolean;
  test(key: Uint8Array): boolean;
}

export function globProblem(pattern: string): GlobProblem | undefined {
  if (pattern.length === 0) return 'empty';
  // Control characters cannot be typed in Slack; a newline or NUL here came from somewhere else.
  if (/[\x00-\x1f\x7f]/.test(pattern)) return 'control';
  const bytes = Buffer.from(pattern, 'utf8');
  if (bytes.length > MAX_PATTERN_BYTES) return 'too_long';
  const tokens = tokenize(bytes);
  return typeof tokens === 'string' ? tokens : undefined;
}

/** Compiles a pattern; a bad one is a UserError naming what is wrong with it. */
export function glob(pattern: string): Glob {
  const problem = globProblem(pattern);
  if (problem) throw new UserError(msg(`cache:pattern.${problem}`, { pattern, max: MAX_PATTERN_BYTES }));
  const tokens = tokenize(Buffer.from(pattern, 'utf8')) as Token[];
  return {
    pattern,
    literal: tokens.every((t) => t.kind === 'byte'),
    test: (key) => matchTokens(tokens, key),
  };
}

/** One matcher for a list of patterns (the protected ones): true when any matches. */
export function anyGlob(patterns: readonly string[]): (key: Uint8Array) => boolean {
  const globs = patterns.map(glob);
  return (key) => globs.some((g) => g.test(key));
}
