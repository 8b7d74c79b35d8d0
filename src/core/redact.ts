/**
 * Secrets must never reach logs or Slack. This pass runs over every text that is posted, every
 * uploaded file, every log line and every audit row, so it must stay linear in its input: a 1 MB
 * log line is ordinary. Each pass below is either a regex whose every quantifier is a single
 * character class run from a literal anchor (no nested or overlapping quantifiers, nothing that
 * rescans), or a hand-written scan that resumes where the previous match ended.
 */
export const MASK = '***';

// ---- URL userinfo: scheme://user:password@host -> scheme://user:***@host ----------------------

/** `://` after a scheme character, then the authority (up to `/`, `?`, `#` or whitespace). */
const URL_AUTHORITY = /(?<=[a-z0-9+.-]):\/\/([^\s/?#]*)/gi;
/** How far past the authority a password with `/`, `?` or `#` in it may reach its `@`. */
const URL_LOOKAHEAD = 256;

const SPACE = /\s/g;
const indexOrEnd = (i: number, text: string) => (i < 0 ? text.length : i);

function redactUrls(text: string): string {
  if (!text.includes('://')) return text;
  let out = '';
  let i = 0;
  let nextAt = -1;
  let nextSpace = -1;
  URL_AUTHORITY.lastIndex = 0;
  for (let m = URL_AUTHORITY.exec(text); m; m = URL_AUTHORITY.exec(text)) {
    const auth = m[1];
    const start = m.index + 3;
    const colon = auth.indexOf(':');
    if (colon < 0) continue;
    const at = auth.lastIndexOf('@');
    let passwordEnd: number;
    if (at > colon) {
      // The password runs to the last `@` of the authority: `u:p@ss:w@rd@host` keeps only `host`.
      passwordEnd = start + at;
    } else if (at < 0 && !auth.startsWith('[') && !/^\d*$/.test(auth.slice(colon + 1))) {
      // `u:pa/ss@host`: the authority stopped at a `/` inside the password. Look on, a bounded way,
      // for an `@` before the next whitespace. Both positions only move forward, so this stays linear.
      const end = start + auth.length;
      if (nextAt < end) nextAt = indexOrEnd(text.indexOf('@', end), text);
      if (nextSpace < end) {
        SPACE.lastIndex = end;
        nextSpace = SPACE.exec(text)?.index ?? text.length;
      }
      if (nextAt >= nextSpace || nextAt - end > URL_LOOKAHEAD) continue;
      const host = /^[^\s/?#]*/.exec(text.slice(nextAt + 1, nextAt + 1 + URL_LOOKAHEAD))![0];
      const last = host.lastIndexOf('@');
      passwordEnd = last >= 0 ? nextAt + 1 + last : nextAt;
    } else {
      continue; // no password, host:port or [v6]
    }
    out += `${text.slice(i, start + colon + 1)}${MASK}`;
    i = passwordEnd;
    URL_AUTHORITY.lastIndex = Math.max(URL_AUTHORITY.lastIndex, passwordEnd);
  }
  return out + text.slice(i);
}

// ---- PEM private keys ---------------------------------------------------------------------------

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY( BLOCK)?-----/g;
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
/** A key is at most a few KB; an END further than this belongs to something else. */
const PEM_MAX = 16 * 1024;
/**
 * Key material after a BEGIN whose END is missing (a key cut off by an excerpt): base64 runs and
 * RFC 1421 headers, separated by newlines or by the two characters `\n` of an escaped string.
 * A partial last line goes too, up to its first character that cannot be base64. A key that
 * was flattened onto one line (BEGIN followed by a space) is separated by spaces instead.
 * Separator and base64 characters are disjoint, so the scan never backtracks more than once.
 */
const PEM_BODY = /(?:(?:\r?\n|\\r?\\n)*(?:(?:Proc-Type|DEK-Info|Comment):[^\r\n\\]*|[A-Za-z0-9+/=]+))*/y;
const PEM_BODY_FLAT = /(?:[ \t]*[A-Za-z0-9+/=]+)*/y;
// i18n-exempt: a redaction marker, the same in logs, files and messages in every language (like "xox*-***")
const PEM_REDACTED = '[private key redacted]';

function redactPem(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  const positions = (re: RegExp) => {
    const found: Array<{ start: number; end: number }> = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) found.push({ start: m.index, end: m.index + m[0].length });
    return found;
  };
  const begins = positions(PEM_BEGIN);
  const ends = positions(PEM_END);
  let out = '';
  let i = 0;
  let e = 0;
  for (let b = 0; b < begins.length; b++) {
    if (begins[b].start < i) continue; // inside a key already removed
    out += text.slice(i, begins[b].start);
    let stop = begins[b].end;
    while (e < ends.length && ends[e].start < stop) e++;
    const nextBegin = b + 1 < begins.length ? begins[b + 1].start : Infinity;
    if (e < ends.length && ends[e].start < nextBegin && ends[e].end - stop <= PEM_MAX) {
      stop = ends[e].end;
    } else {
      // Cut off before its END: remove the key material that follows, line by line.
      const body = text[stop] === ' ' ? PEM_BODY_FLAT : PEM_BODY;
      body.lastIndex = stop;
      body.exec(text);
      stop = Math.max(stop, body.lastIndex);
    }
    out += PEM_REDACTED;
    i = stop;
  }
  return out + text.slice(i);
}

// ---- Tokens, headers, key=value and command-line forms -----------------------------------------

/** A value after a key: a quoted string (escapes allowed) or a run up to a separator. */
const VALUE = String.raw`(?!\*\*\*)(?:"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"|'[^'\r\n]*'|\\"[^"\\\r\n]*\\"|[^\s"'\\&,;]+)`;
const KEYWORDS = String.raw`(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credentials?|rediscli_auth|auth_?key)`;

const PATTERNS: Array<{ test?: RegExp; re: RegExp; to: string }> = [
  // Slack tokens: bot, user, app, config, refresh, and app-level tokens.
  { test: /xox|xapp/, re: /\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]+/g, to: 'xox*-***' },
  // GitHub tokens.
  { test: /gh[pousr]_/, re: /\bgh[pousr]_[A-Za-z0-9]{20,}/g, to: 'gh*_***' },
  // Authorization: Bearer …, Basic …: the whole credential, to the end of the header or string.
  {
    test: /authorization/i,
    re: /(\b(?:proxy-)?authorization\\?["']?[ \t]{0,8}[:=][ \t]{0,8}\\?["']?(?:[a-z0-9-]{1,20}[ \t]+)?)[^\r\n"'\\]+/gi,
    to: `$1${MASK}`,
  },
  // A bare bearer token (`curl -H "…: Bearer x"` is caught above; this is for prose and JSON).
  { test: /bearer/i, re: /\b(bearer[ \t]+)[A-Za-z0-9\-._~+/]{8,}=*/gi, to: `$1${MASK}` },
  // --password x, --password=x, -password x, --token x, --pass x
  {
    test: /-(?:pass|pwd|secret|token|api-?key)/i,
    re: new RegExp(String.raw`(\s--?(?:password|passwd|pass|pwd|secret|token|api-?key|access-token|auth-token)(?:[ \t]+|=))${VALUE}`, 'gi'),
    to: `$1${MASK}`,
  },
  { test: /requirepass|masterauth/i, re: new RegExp(String.raw`(\b(?:requirepass|masterauth)[ \t]+)${VALUE}`, 'gi'), to: `$1${MASK}` },
  // password=…, PGPASSWORD=…, aws_secret_access_key = …, api_key: …, "token": "…", SECRET_KEY=…
  {
    // Not a slash command's name (a `/` at the start, after a space or mrkdwn's `*` `_`): `/secrets: Secrets
    // (manual §5.2)` is a name and its summary. A path's `/run/secrets/password=x` still is a key and its value.
    re: new RegExp(String.raw`((?<!(?:^|[\s*_(])/)${KEYWORDS}[A-Za-z0-9_.-]{0,40}\\?["']?[ \t]{0,8}[=:][ \t]{0,8})${VALUE}`, 'gi'),
    to: `$1${MASK}`,
  },
];

/**
 * redis-cli … -a x (also `-a 'x y'` and `--pass x`). `-a` means a password only on a redis-cli
 * line, so each line from `redis-cli` to its end is matched once, then searched for the option.
 */
const REDIS_CLI = /\bredis-cli\b[^\r\n]*/g;
const REDIS_PASS = new RegExp(String.raw`([ \t](?:-a|--pass)[ \t]+)${VALUE}`, 'g');

function redactRedisCli(text: string): string {
  if (!text.includes('redis-cli')) return text;
  return text.replace(REDIS_CLI, (line) => line.replace(REDIS_PASS, `$1${MASK}`));
}

// ---- Values the bot itself made or read at run time (a rotated secret) ---------------------------

/**
 * Secret values known only at run time, which no pattern above would recognise: every text that
 * is posted, logged or audited has them masked. A bounded set (oldest dropped first); values
 * shorter than MIN_REMEMBERED are not kept, as masking them would mangle ordinary text.
 */
const remembered = new Set<string>();
const MAX_REMEMBERED = 256;
const MIN_REMEMBERED = 8;

/** Masks `value` (and each of its lines) wherever it appears from now on, for the life of the process. */
export function rememberSecret(value: string): void {
  for (const v of [value, ...value.split(/\r?\n/)]) {
    const s = v.trim();
    if (s.length < MIN_REMEMBERED || remembered.has(s)) continue;
    remembered.add(s);
    if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.values().next().value!);
  }
}

/** One indexOf scan per remembered value: linear in the text for a bounded set. */
function redactRemembered(text: string): string {
  let out = text;
  for (const v of remembered) if (out.includes(v)) out = out.split(v).join(MASK);
  return out;
}

/** Removes every secret form this module knows from `text`. Linear in `text.length`. */
export function redactText(text: string): string {
  let out = redactRedisCli(redactPem(redactUrls(remembered.size ? redactRemembered(text) : text)));
  for (const p of PATTERNS) {
    if (p.test && !p.test.test(out)) continue;
    out = out.replace(p.re, p.to);
  }
  return out;
}

/** Deeply redacts every string in a JSON-like value (used on Slack payloads before they are sent). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  }
  return value;
}

/** Field names whose value is a secret whatever it looks like (matched anywhere in a log object). */
export const SECRET_KEY = /passw(?:or)?d|passphrase|^pass$|^pwd$|secret|token|authorization|^cookie$|private_?key|api_?key|credential/i;

/** Field paths pino should censor wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'signingSecret', '*.signingSecret',
  'privateKey', '*.privateKey', 'authorization', '*.authorization', 'headers.authorization', 'url', '*.url',
];

/** An attachment's bytes for upload: text is redacted; binary content (a chart) was drawn from redacted text. */
export function fileBytes(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(redactText(content)) : Buffer.from(content);
}
