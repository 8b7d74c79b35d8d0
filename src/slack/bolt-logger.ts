import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../core/log.ts';

/** One argument of a Bolt log call as text; never throws (a circular object must not break logging). */
function argText(a: unknown): string {
  if (typeof a === 'string') return a;
  if (a instanceof Error) return a.message;
  try {
    return JSON.stringify(a) ?? String(a);
  } catch {
    return String(a);
  }
}

/**
 * Bolt's Logger interface on top of our pino logger, so everything lands in one redacted stream:
 * the joined text is the message, which createLogger redacts after formatting.
 */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (args: unknown[]) => args.map(argText).join(' ');
  return {
    debug: (...a) => child.debug(text(a)),
    info: (...a) => child.info(text(a)),
    warn: (...a) => child.warn(text(a)),
    error: (...a) => child.error(text(a)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
