import { msg, type Msg } from '../i18n/index.ts';

export class TimeoutError extends Error {
  /** What a reader is shown: `t.text(err.text)` ("timeout after 1.5 s" / "1.5秒后超时"). */
  readonly text: Msg;
  constructor(readonly ms: number) {
    // i18n-exempt: the English message is for logs and for matching (targets test /timeout after/); readers see `text`
    super(`timeout after ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`);
    this.name = 'TimeoutError';
    this.text = ms >= 1000 ? msg('core:timeout.seconds', { seconds: ms / 1000 }) : msg('core:timeout.ms', { ms });
  }
}

/**
 * Settles with `work`, or rejects with TimeoutError after `ms`. The work itself keeps its own
 * timeouts (driver options) so it is cleaned up; this only guarantees the caller is not held.
 */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  work.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
