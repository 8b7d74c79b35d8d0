/**
 * Whether a text is one read-only query: the first of three checks on what /db explain accepts.
 * It reads the text the way PostgreSQL's scanner does (comments, quoted identifiers, standard,
 * escape and dollar-quoted strings), so that a keyword or a semicolon inside a string or a
 * comment is not taken for one. The server then parses the statement itself through the extended
 * protocol, which refuses more than one statement, and the plan is checked for writes and row
 * locks before anything runs (explain.ts).
 */
import { msg, type Msg } from '../i18n/index.ts';

type Kind = 'word' | 'ident' | 'string' | 'number' | 'param' | 'open' | 'close' | 'semi' | 'comma' | 'op';

export interface Token {
  kind: Kind;
  /** Upper case for words; the content for quoted identifiers and strings. */
  text: string;
  /** Brackets open around it. */
  depth: number;
}

/** Why a text is refused, as a message for the reader. */
export class StatementRefused extends Error {
  constructor(readonly reason: Msg) {
    super(reason.key);
  }
}

const refuse = (key: string, params?: Record<string, unknown>) => new StatementRefused(msg(`db:explain.refused.${key}`, params));

const WORD_START = /[A-Za-z_\u0080-\uFFFF]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uFFFF]/;

/** Tokens of a SQL text; throws StatementRefused for an unterminated string, identifier or comment. */
export function lex(sql: string): Token[] {
  const out: Token[] = [];
  let depth = 0;
  let i = 0;
  const push = (kind: Kind, text: string) => out.push({ kind, text, depth });
  // A quoted run: the doubled quote is the quote itself; `backslash` strings also escape with \.
  const quoted = (q: string, backslash: boolean): string => {
    let text = '';
    for (i++; i < sql.length; i++) {
      const c = sql[i];
      if (backslash && c === '\\') {
        text += sql[++i] ?? '';
      } else if (c === q) {
        if (sql[i + 1] === q) {
          text += q;
          i++;
        } else {
          i++;
          return text;
        }
      } else text += c;
    }
    throw refuse(q === '"' ? 'unterminated_ident' : 'unterminated_string');
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      // Block comments nest in PostgreSQL.
      let nest = 0;
      do {
        if (sql.startsWith('/*', i)) {
          nest++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          nest--;
          i += 2;
        } else i++;
      } while (nest > 0 && i < sql.length);
      if (nest > 0) throw refuse('unterminated_comment');
    } else if (c === "'") {
      push('string', quoted("'", false));
    } else if (c === '"') {
      push('ident', quoted('"', false));
    } else if (c === '$' && /\d/.test(next ?? '')) {
      const m = /^\$\d+/.exec(sql.slice(i))!;
      push('param', m[0]);
      i += m[0].length;
    } else if (c === '$' && /^\$([A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$([A-Za-z_\u0080-\uFFFF][A-Za-z0-9_\u0080-\uFFFF]*)?\$/.exec(sql.slice(i))![0];
      const end = sql.indexOf(tag, i + tag.length);
      if (end < 0) throw refuse('unterminated_string');
      push('string', sql.slice(i + tag.length, end));
      i = end + tag.length;
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD_PART.test(sql[j])) j++;
      const word = sql.slice(i, j);
      // E'…' escapes with backslashes; B'…', X'…', N'…' and U&'…' quote like plain strings.
      if (sql[j] === "'" && /^[EeBbXxNn]$/.test(word)) {
        i = j;
        push('string', quoted("'", /^[Ee]$/.test(word)));
      } else {
        push('word', word.toUpperCase());
        i = j;
      }
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(next ?? ''))) {
      const m = /^(\d[\d_]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      push('number', m[0]);
      i += m[0].length;
    } else if (c === '(' || c === '[') {
      push('open', c);
      depth++;
      i++;
    } else if (c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      push('close', c);
      i++;
    } else if (c === ';') {
      push('semi', c);
      i++;
    } else if (c === ',') {
      push('comma', c);
      i++;
    } else {
      push('op', c);
      i++;
    }
  }
  return out;
}

const QUERY_START = new Set(['SELECT', 'VALUES', 'TABLE']);
const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);
const ROW_LOCKS = new Set(['UPDATE', 'SHARE', 'NO', 'KEY']);

const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text);

/** The index just past the bracket opened at `i`. */
function skipGroup(tokens: Token[], i: number): number {
  const depth = tokens[i].depth;
  for (let j = i + 1; j < tokens.length; j++) if (tokens[j].kind === 'close' && tokens[j].depth === depth) return j + 1;
  return tokens.length;
}

/**
 * Checks that `sql` is one SELECT, WITH … SELECT, VALUES or TABLE, with no data-modifying WITH,
 * no SELECT INTO and no row locks. Returns the text without trailing semicolons, to be explained.
 */
export function checkReadOnly(sql: string): string {
  const tokens = lex(sql);
  while (tokens.at(-1)?.kind === 'semi') tokens.pop();
  if (!tokens.length) throw refuse('empty');
  if (tokens.some((t) => t.kind === 'semi')) throw refuse('several');
  let i = 0;
  while (tokens[i]?.kind === 'open') i++;
  const first = tokens[i];
  if (isWord(first, 'WITH')) i = checkWith(tokens, i + 1);
  else if (!(first?.kind === 'word' && QUERY_START.has(first.text))) throw refuse(first?.kind === 'word' && WRITES.has(first.text) ? 'writes' : 'not_select', { found: first?.text ?? '' });
  for (let j = 0; j < tokens.length; j++) {
    const t = tokens[j];
    // SELECT … INTO creates a table.
    if (isWord(t, 'INTO')) throw refuse('into');
    if (isWord(t, 'FOR') && tokens[j + 1]?.kind === 'word' && ROW_LOCKS.has(tokens[j + 1].text)) throw refuse('locks');
    // A statement in brackets (a WITH's query, a subquery) that writes.
    if (t.kind === 'open' && tokens[j + 1]?.kind === 'word' && WRITES.has(tokens[j + 1].text)) throw refuse('writes', { found: tokens[j + 1].text });
  }
  return trimSemicolons(sql).trim();
}

/** Past WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (query) [SEARCH…|CYCLE…], …: the main statement must read. */
function checkWith(tokens: Token[], start: number): number {
  let i = start;
  const depth = tokens[start - 1].depth;
  if (isWord(tokens[i], 'RECURSIVE')) i++;
  for (;;) {
    if (tokens[i]?.kind !== 'word' && tokens[i]?.kind !== 'ident') throw refuse('syntax');
    i++;
    if (tokens[i]?.kind === 'open') i = skipGroup(tokens, i);
    if (!isWord(tokens[i], 'AS')) throw refuse('syntax');
    i++;
    if (isWord(tokens[i], 'NOT')) i++;
    if (isWord(tokens[i], 'MATERIALIZED')) i++;
    if (tokens[i]?.kind !== 'open') throw refuse('syntax');
    const body = tokens[i + 1];
    if (body?.kind === 'word' && WRITES.has(body.text)) throw refuse('writes', { found: body.text });
    i = skipGroup(tokens, i);
    // SEARCH and CYCLE clauses run up to the next query or the next WITH item.
    while (i < tokens.length && tokens[i].depth === depth && tokens[i].kind !== 'comma' && tokens[i].kind !== 'open'
      && !(tokens[i].kind === 'word' && (QUERY_START.has(tokens[i].text) || WRITES.has(tokens[i].text)))) i++;
    if (tokens[i]?.kind === 'comma') {
      i++;
      continue;
    }
    break;
  }
  const main = tokens[i];
  if (main?.kind === 'open' || (main?.kind === 'word' && QUERY_START.has(main.text))) return i;
  throw refuse(main?.kind === 'word' && WRITES.has(main.text) ? 'writes' : 'not_select', { found: main?.text ?? '' });
}

/** The text without the semicolons (and blanks and comments after them) that end it. */
function trimSemicolons(sql: string): string {
  let text = sql;
  for (;;) {
    const trimmed = text.replace(/\s+$/, '');
    if (trimmed.endsWith(';')) text = trimmed.slice(0, -1);
    else return trimmed;
  }
}
