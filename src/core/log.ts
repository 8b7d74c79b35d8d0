import { pino, type Logger } from 'pino';
import { REDACT_PATHS, redactText } from './redact.ts';

export type { Logger };

/** JSON logs to stderr (stdout belongs to the console), with secrets censored. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { app: 'opsbot' },
      redact: { paths: REDACT_PATHS, censor: (v) => (typeof v === 'string' ? redactText(v) : '[redacted]') },
      hooks: {
        logMethod(args, method) {
          // Messages may embed connection strings from driver errors.
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    pino.destination({ dest: 2, sync: false }),
  );
}
