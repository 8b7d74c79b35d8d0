/**
 * Per-user sliding window (the manual's rate_limit: requests_per_minute). In memory on purpose:
 * it protects targets from one runaway user or script, not a hard quota across replicas.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Records a hit; returns 0 when allowed, else the milliseconds until the next slot frees. */
  take(key: string): number {
    const now = this.now();
    const since = now - 60_000;
    const list = (this.hits.get(key) ?? []).filter((t) => t > since);
    if (list.length >= this.perMinute) {
      this.hits.set(key, list);
      return list[0] + 60_000 - now;
    }
    list.push(now);
    this.hits.set(key, list);
    this.sweep(now);
    return 0;
  }

  /** Drops idle users now and then so the map does not grow without bound. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, list] of this.hits) if (list[list.length - 1] <= now - 60_000) this.hits.delete(key);
  }
}
