import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../core/log.ts';

/** Bolt's Logger interface on top of our pino logger, so everything lands in one redacted stream. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' ');
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
