/**
 * Secrets must never reach logs or Slack. This pass runs over every text that is posted and over
 * log messages; pino's `redact` covers structured fields.
 */
const PATTERNS: Array<[RegExp, string]> = [
  // scheme://user:password@host -> scheme://user:***@host
  [/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi, '$1***@'],
  // Slack tokens (bot, user, app, config, refresh)
  [/\bxox[abeoprs]-[A-Za-z0-9-]+/g, 'xox*-***'],
  [/\bxapp-[A-Za-z0-9-]+/g, 'xapp-***'],
  // password=…, PGPASSWORD=…, "password": "…"
  [/((?:password|passwd|pwd|secret(?:_?key)?|token)["']?\s*[=:]\s*)(?:"[^"]*"|'[^']*'|[^\s"'&,;]+)/gi, '$1***'],
  // PEM private keys
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[private key redacted]'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl);
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

/** Field paths pino should censor wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password', '*.password', 'token', '*.token', 'secret', '*.secret', 'signingSecret', '*.signingSecret',
  'privateKey', '*.privateKey', 'authorization', '*.authorization', 'headers.authorization', 'url', '*.url',
];
