import { pino, type DestinationStream, type Logger } from 'pino';
import { plainMentions } from './mention.ts';
import { REDACT_PATHS, SECRET_KEY, redactText } from './redact.ts';

export type { Logger };

const CENSORED = '[redacted]';
/** Deeper than this, a log object is cut: nothing we log is this deep, and cycles end here too. */
const MAX_DEPTH = 8;

/** A log string: secrets removed, and the bot's mention tokens (src/core/mention.ts) made plain. */
const logText = (text: string): string => plainMentions(redactText(text));

/**
 * Every string in a log object, at any depth, goes through redaction, and any field named like a
 * secret is censored whatever its value. Errors become pino's usual { type, message, stack, … }
 * first, so their message, stack and own fields (a driver error's connection string) are
 * redacted too. Values are copied, never modified.
 */
export function redactLogValue(value: unknown, depth = 0, seen = new Set<object>()): unknown {
  if (typeof value === 'string') return logText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return redactLogValue({ ...pino.stdSerializers.err(value) }, depth, seen);
    if (Array.isArray(value)) return value.map((v) => redactLogValue(v, depth + 1, seen));
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') return redactLogValue(json.call(value), depth, seen); // URL, Date: as JSON shows them
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = typeof v === 'string' && SECRET_KEY.test(k) ? CENSORED : redactLogValue(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

const logObject = (obj: Record<string, unknown>) => redactLogValue(obj) as Record<string, unknown>;

/**
 * JSON logs with secrets censored: every string of every log object and of child bindings is
 * redacted (not only the paths pino's `redact` lists), and so is the message after formatting.
 * Logs go to stderr (stdout belongs to the console) unless `dest` is given.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', dest?: DestinationStream): Logger {
  const logger = pino(
    {
      level,
      base: { app: 'opsbot' },
      // Belt and braces: the listed fields are censored even if a formatter is bypassed.
      redact: { paths: REDACT_PATHS, censor: (v, path) => (typeof v === 'string' && /url$/i.test(String(path.at(-1))) ? redactText(v) : CENSORED) },
      formatters: { log: logObject, bindings: logObject },
      serializers: {
        // The message, after printf-style formatting.
        msg: (m: unknown) => (typeof m === 'string' ? logText(m) : m),
        // Errors were already serialized and redacted by formatters.log; a second pass would rename them.
        err: (e: unknown) => (e instanceof Error ? redactLogValue(e) : e),
      },
      hooks: {
        logMethod(args, method) {
          // Objects interpolated into the message (%j, %o) are redacted before they are
          // stringified: once inside JSON, their strings are escaped and harder to recognise.
          const first = typeof args[0] === 'string' ? 1 : 2;
          for (let i = first; i < args.length; i++) if (args[i] !== null && typeof args[i] === 'object') args[i] = redactLogValue(args[i]);
          method.apply(this, args);
        },
      },
    },
    dest ?? pino.destination({ dest: 2, sync: false }),
  );
  // pino applies formatters.bindings to the root's bindings only; children's go through here.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, logObject(bindings), options);
  } as typeof logger.child;
  return logger;
}
