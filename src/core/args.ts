import { z } from 'zod';
import { UserError } from './errors.ts';
import { hasKey, msg, type T } from '../i18n/index.ts';
import type { UsageLine } from './usage.ts';
import { didYouMean } from './suggest.ts';

/**
 * Splits command text like a shell would tokenise it (quotes group words) without ever running a
 * shell. Slack turns straight quotes into curly ones on some clients, so both are accepted.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const normalized = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  // Unquoted runs stop at a quote so `--grep="a b"` joins up; a lone quote stays literal (don't).
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+|["'])/g;
  let current: string | undefined;
  let lastEnd = -1;
  for (let m = re.exec(normalized); m; m = re.exec(normalized)) {
    const piece = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3];
    // Adjacent pieces with no space between them form one token: --grep="a b"
    if (current !== undefined && m.index === lastEnd) current += piece;
    else {
      if (current !== undefined) tokens.push(current);
      current = piece;
    }
    lastEnd = m.index + m[0].length;
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

/** A word as tokenize() reads it back: quoted when it holds spaces, quotes or backslashes. */
export const quoteWord = (s: string) => (/^[^\s"'\\\u2018\u2019\u201C\u201D]+$/.test(s) ? s : `"${s.replace(/(["\\\u201C\u201D])/g, '\\$1')}"`);

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

type AnySchema = z.ZodType & { _zod: { def: { type: string; innerType?: AnySchema; entries?: Record<string, string> } } };

/** Unwraps optional/default/nullable wrappers to the underlying type. */
function base(schema: AnySchema): AnySchema {
  let s = schema;
  while (s._zod.def.innerType) s = s._zod.def.innerType;
  return s;
}

export interface ArgSpec {
  schema: z.ZodObject;
  positionals: readonly string[];
  usage: readonly UsageLine[];
  /** The last positional takes every remaining bare word, as an array. */
  variadic?: boolean;
  /** The last positional takes every remaining word joined by spaces (a title: `/incident declare db is down`). */
  rest?: boolean;
  /** This argument takes the text as typed, between the --flags at its start and its end. */
  raw?: string;
}

/** Turns tokens into the object the command's zod schema validates; every mistake is a UserError. */
export function parseArgs(text: string, spec: ArgSpec): unknown {
  return parseCommandLine(text, spec).values;
}

export interface ParsedLine {
  values: unknown;
  /**
   * The arguments as the parser understood them, re-quoted, without the `omit` options: what
   * cards and audit rows show. Built from the tokens, so curly quotes and `--flag=value` forms
   * are rendered the same way they were parsed.
   */
  echo: string;
}

/** Quotes a token for display only when it would otherwise split or change meaning. */
function shown(token: string): string {
  return /^[^\s"']+$/.test(token) ? token : `"${token.replace(/(["\\])/g, '\\$1')}"`;
}

export function parseCommandLine(text: string, spec: ArgSpec, omit: readonly string[] = []): ParsedLine {
  if (spec.raw) return parseRaw(text, spec, spec.raw, omit);
  const shape = spec.schema.shape as Record<string, AnySchema>;
  const flags = Object.keys(shape).filter((k) => !spec.positionals.includes(k));
  const out: Record<string, unknown> = {};
  const positional: string[] = [];
  const echo: string[] = [];
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (!tok.startsWith('--') || tok === '--') {
      positional.push(tok);
      echo.push(shown(tok));
      continue;
    }
    const [rawName, inline] = tok.slice(2).split(/=(.*)/s, 2);
    const key = camel(rawName);
    if (!flags.includes(key)) {
      const guess = didYouMean(rawName, flags.map(kebab));
      throw new UserError(msg('core:args.unknown_option', { flag: `--${rawName}` }), { usage: spec.usage, hint: guess ? `--${guess}` : undefined });
    }
    if (base(shape[key])._zod.def.type === 'boolean') {
      // A switch is on when present. "--dry-run=false" would otherwise read as a real run to
      // one person and a dry run to another, so any value is refused.
      if (inline !== undefined) throw new UserError(msg('core:args.switch_value', { flag: `--${rawName}` }), { usage: spec.usage });
      out[key] = true;
    } else if (inline !== undefined) {
      out[key] = inline;
    } else if (i + 1 < tokens.length) {
      out[key] = tokens[++i];
    } else {
      throw new UserError(msg('core:args.needs_value', { flag: `--${rawName}` }), { usage: spec.usage });
    }
    if (!omit.includes(key)) echo.push(out[key] === true ? `--${rawName}` : `--${rawName} ${shown(String(out[key]))}`);
  }
  const last = spec.positionals.length - 1;
  if (spec.rest && last >= 0 && positional.length > spec.positionals.length) positional.splice(last, positional.length - last, positional.slice(last).join(' '));
  if (spec.variadic && last >= 0) {
    if (positional.length > last) out[spec.positionals[last]] = positional.splice(last);
  } else if (positional.length > spec.positionals.length) {
    throw new UserError(msg('core:args.unexpected', { arg: positional[spec.positionals.length] }), { usage: spec.usage });
  }
  positional.forEach((value, i) => (out[spec.positionals[i]] = value));
  return { values: validate(out, spec), echo: echo.join(' ') };
}

/** A token at the edge of raw text: a --flag, with its value when it takes one. */
const FLAG_AT_START = /^\s*--([a-z][a-z0-9-]*)(?:=(\S*)|(?=\s|$))/;
const FLAG_AT_END = /(?:^|\s)--([a-z][a-z0-9-]*)(?:=(\S*))?\s*$/;
const VALUE_FLAG_AT_END = /(?:^|\s)--([a-z][a-z0-9-]*)\s+([^\s-]\S*)\s*$/;

/**
 * `/db explain select … --analyze`: the known --flags are taken off the start and the end, and
 * what is left in between is the raw argument, exactly as typed (quotes are part of SQL). Only
 * known flags are taken, so SQL's own `--` comments stay part of the text.
 */
function parseRaw(text: string, spec: ArgSpec, key: string, omit: readonly string[]): ParsedLine {
  const shape = spec.schema.shape as Record<string, AnySchema>;
  const flags = Object.keys(shape).filter((k) => k !== key);
  const out: Record<string, unknown> = {};
  const echo: string[] = [];
  const isSwitch = (name: string) => flags.includes(camel(name)) && base(shape[camel(name)])._zod.def.type === 'boolean';
  const take = (name: string, value: string | undefined): boolean => {
    const k = camel(name);
    if (!flags.includes(k)) return false;
    const on = isSwitch(name);
    if (on && value !== undefined) throw new UserError(msg('core:args.switch_value', { flag: `--${name}` }), { usage: spec.usage });
    if (!on && value === undefined) return false;
    out[k] = on ? true : value;
    if (!omit.includes(k)) echo.push(on ? `--${name}` : `--${name}=${shown(String(value))}`);
    return true;
  };
  let rest = text;
  for (let m = FLAG_AT_START.exec(rest); m; m = FLAG_AT_START.exec(rest)) {
    const name = m[1];
    let value = m[2];
    let used = m[0].length;
    // "--target main select …": a flag that takes a value may have it as the next word here.
    if (value === undefined && flags.includes(camel(name)) && !isSwitch(name)) {
      const next = /^\s+(\S+)/.exec(rest.slice(used));
      if (next) {
        value = next[1];
        used += next[0].length;
      }
    }
    if (!take(name, value)) break;
    rest = rest.slice(used);
  }
  for (;;) {
    const m = FLAG_AT_END.exec(rest);
    const v = m ? undefined : VALUE_FLAG_AT_END.exec(rest);
    const hit = m ?? (v && !isSwitch(v[1]) ? v : undefined);
    if (!hit || !take(hit[1], hit[2])) break;
    rest = rest.slice(0, hit.index);
  }
  const body = rest.trim();
  if (body) out[key] = body;
  return { values: validate(out, spec), echo: [body, ...echo].filter(Boolean).join(' ') };
}

function validate(input: Record<string, unknown>, spec: ArgSpec): unknown {
  const result = spec.schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = String(issue.path[0] ?? '');
  const label = spec.positionals.includes(field) ? field : `--${kebab(field)}`;
  const given = input[field];
  if (issue.code === 'invalid_value' && typeof given === 'string') {
    const options = issue.values.map(String);
    const guess = didYouMean(given, options);
    throw new UserError(msg('core:args.unknown_value', { label, given, options: options.join(', ') }), { usage: spec.usage, hint: guess });
  }
  if (given === undefined) throw new UserError(msg('core:args.missing', { label }), { usage: spec.usage });
  // A schema's own message may be a catalog key ("audit:bad_user"): the whole error, with {{label}}.
  if (hasKey(issue.message)) throw new UserError(msg(issue.message, { label }), { usage: spec.usage });
  // zod's own reasons ("Too big: expected number to be <=200") come in its locales: the Chinese
  // one is made now, while the input is at hand, and the reader's is picked when shown.
  const zh = spec.schema.safeParse(input, { error: z.locales.zhCN().localeError });
  const reasons = { en: issue.message, 'zh-CN': zh.success ? issue.message : zh.error.issues[0].message };
  throw new InvalidArgument(label, reasons, spec.usage);
}

/** An argument zod refused: "Invalid --limit: Too big…", with zod's reason in the reader's language. */
class InvalidArgument extends UserError {
  constructor(private readonly label: string, private readonly reasons: Record<T['locale'], string>, usage: readonly UsageLine[]) {
    super(msg('core:args.invalid', { label, reason: reasons.en }), { usage });
  }

  override localized(t: T): string {
    return t('core:args.invalid', { label: this.label, reason: this.reasons[t.locale] });
  }
}
