/** The window of the manual's rate_limit: requests_per_minute. */
export const WINDOW_MS = 60_000;

/** Takes a slot for a key: 0 when allowed, else the milliseconds until the next slot frees. */
export interface Limiter {
  take(key: string): number | Promise<number>;
}

interface Window {
  times: number[];
  head: number;
}

/**
 * Per-user sliding window, in this process's memory. The bot shares the count across replicas
 * through the state store (SharedRateLimiter), which falls back to this one when the store does
 * not answer; the console and tests use it directly.
 * Each user's hits are a queue of timestamps read from `head`, so a hit costs O(1) amortised
 * even with a high limit; the array is compacted once most of it is spent.
 */
export class RateLimiter implements Limiter {
  private readonly hits = new Map<string, Window>();
  private lastSweep = 0;

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Records a hit; returns 0 when allowed, else the milliseconds until the next slot frees. */
  take(key: string): number {
    const now = this.now();
    const since = now - WINDOW_MS;
    let w = this.hits.get(key);
    if (!w) this.hits.set(key, (w = { times: [], head: 0 }));
    while (w.head < w.times.length && w.times[w.head] <= since) w.head++;
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head);
      w.head = 0;
    }
    if (w.times.length - w.head >= this.perMinute) return w.times[w.head] + WINDOW_MS - now;
    w.times.push(now);
    this.sweep(now);
    return 0;
  }

  /** Drops idle users now and then so the map does not grow without bound. */
  private sweep(now: number): void {
    if (now - this.lastSweep < WINDOW_MS) return;
    this.lastSweep = now;
    for (const [key, w] of this.hits) if (w.times[w.times.length - 1] <= now - WINDOW_MS) this.hits.delete(key);
  }
}
