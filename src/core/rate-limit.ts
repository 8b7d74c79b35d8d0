/**
 * Per-user sliding window (the manual's rate_limit: requests_per_minute). In memory on purpose:
 * it protects targets from one runaway user or script, not a hard quota across replicas.
 * Each user's hits are a queue of timestamps read from `head`, so a hit costs O(1) amortised
 * even with a high limit; the array is compacted once most of it is spent.
 */
interface Window {
  times: number[];
  head: number;
}

export class RateLimiter {
  private readonly hits = new Map<string, Window>();
  private lastSweep = 0;

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Records a hit; returns 0 when allowed, else the milliseconds until the next slot frees. */
  take(key: string): number {
    const now = this.now();
    const since = now - 60_000;
    let w = this.hits.get(key);
    if (!w) this.hits.set(key, (w = { times: [], head: 0 }));
    while (w.head < w.times.length && w.times[w.head] <= since) w.head++;
    if (w.head > 1024 && w.head * 2 > w.times.length) {
      w.times = w.times.slice(w.head);
      w.head = 0;
    }
    if (w.times.length - w.head >= this.perMinute) return w.times[w.head] + 60_000 - now;
    w.times.push(now);
    this.sweep(now);
    return 0;
  }

  /** Drops idle users now and then so the map does not grow without bound. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, w] of this.hits) if (w.times[w.times.length - 1] <= now - 60_000) this.hits.delete(key);
  }
}
