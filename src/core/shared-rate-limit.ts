import type { Queryable } from '../store/types.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import { RateLimiter, WINDOW_MS, type Limiter } from './rate-limit.ts';
import { withTimeout } from './timeout.ts';

/**
 * A take is one call of rate_limit_take (migration 012): it locks the key's row, drops the
 * requests that left the window, counts the rest from the queue's numbering and appends this one
 * when there is room, at the same cost whatever the limit. A refusal leaves the queue as it was
 * (refusals are not requests), exactly like the in-memory limiter. $1 key, $2 now in epoch ms
 * (null: the database's clock, the same for every replica), $3 window (ms), $4 limit.
 */
const TAKE = 'select admitted, oldest, now_ms from rate_limit_take($1, $2, $3, $4)';

/**
 * The per-user limit kept in the state store, so that N per minute means N across every replica
 * together. If the store does not answer (down, or slower than `timeoutMs`), the request is
 * counted by this process alone and a warning is logged: the limit is there to protect targets
 * from a runaway script, and refusing every command while the store is down would take the bot
 * away from on-call exactly when it is needed. Per-process counting still bounds each replica.
 */
export class SharedRateLimiter implements Limiter {
  private readonly local: RateLimiter;
  private lastWarn = 0;
  private lastPrune = 0;

  constructor(
    private readonly store: Queryable,
    private readonly perMinute: number,
    private readonly log: Logger,
    private readonly opts: { timeoutMs?: number; now?: () => number } = {},
  ) {
    this.local = new RateLimiter(perMinute, opts.now);
  }

  async take(key: string): Promise<number> {
    try {
      const now = this.opts.now?.() ?? null;
      const [row] = await withTimeout(this.store.query<{ admitted: boolean; oldest: string | null; now_ms: string }>(TAKE, [key, now, WINDOW_MS, this.perMinute]), this.opts.timeoutMs ?? 2000);
      this.prune();
      return row.admitted ? 0 : Math.max(1, Number(row.oldest) + WINDOW_MS - Number(row.now_ms));
    } catch (err) {
      const at = Date.now();
      if (at - this.lastWarn >= 60_000) {
        this.lastWarn = at;
        this.log.warn({ err: errorMessage(err) }, 'rate limit: the state store did not answer; counting in this process only until it does');
      }
      return this.local.take(key);
    }
  }

  /** Now and then, drops the rows of keys idle for a while, so the table stays small. */
  private prune(): void {
    const at = Date.now();
    if (at - this.lastPrune < WINDOW_MS) return;
    this.lastPrune = at;
    // Idle by the database's own clock (updated_at), never by a request's time, which tests set.
    this.store.query(
      `with idle as (delete from rate_limit_keys where updated_at < now() - $1 * interval '1 millisecond' returning key)
       delete from rate_limit_log l using idle where l.key = idle.key`,
      [2 * WINDOW_MS],
    ).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'rate limit: could not prune idle keys');
    });
  }
}
