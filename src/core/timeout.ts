export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timeout after ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`);
    this.name = 'TimeoutError';
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
