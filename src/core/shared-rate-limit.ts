import type { Store } from '../store/types.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import { RateLimiter, WINDOW_MS, type Limiter } from './rate-limit.ts';
import { withTimeout } from './timeout.ts';

/**
 * A take is one short transaction of two statements. The first locks the key's row (created on
 * first use) and reads the clock: every take of a key, from any replica, waits here for the one
 * before it, and the second statement, taken after the lock, sees what that one committed.
 * $1 key, $2 now in epoch ms (null: the database's clock, the same for every replica).
 */
const LOCK = `insert into rate_limit_keys as k (key) values ($1)
on conflict (key) do update set updated_at = now()
returning k.next_seq, coalesce($2::bigint, floor(extract(epoch from clock_timestamp()) * 1000)::bigint) as now_ms`;

/**
 * The key's requests are a queue of rows numbered in order; the window is its newest rows, so
 * their count is next_seq minus the first one still in it, found through the primary key. Rows
 * that left the window are deleted as it moves on, each once, so a take costs the same whatever
 * the limit. A refusal leaves the queue as it was (refusals are not requests), exactly like the
 * in-memory limiter. $1 key, $2 now (ms), $3 next_seq, $4 window (ms), $5 limit.
 */
const TAKE = `with gone as (delete from rate_limit_log where key = $1 and at <= $2::bigint - $4),
first as (select seq, at from rate_limit_log where key = $1 and at > $2::bigint - $4 order by seq limit 1),
ins as (insert into rate_limit_log (key, seq, at)
        select $1, $3::bigint, $2::bigint where $3::bigint - coalesce((select seq from first), $3::bigint) < $5
        returning seq),
upd as (update rate_limit_keys set next_seq = next_seq + 1 where key = $1 and exists (select 1 from ins) returning 1)
select exists (select 1 from ins) as admitted, (select at from first) as oldest`;

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
    private readonly store: Pick<Store, 'query' | 'transaction'>,
    private readonly perMinute: number,
    private readonly log: Logger,
    private readonly opts: { timeoutMs?: number; now?: () => number } = {},
  ) {
    this.local = new RateLimiter(perMinute, opts.now);
  }

  async take(key: string): Promise<number> {
    try {
      const now = this.opts.now?.() ?? null;
      const row = await withTimeout(this.store.transaction(async (q) => {
        const [k] = await q.query<{ next_seq: string; now_ms: string }>(LOCK, [key, now]);
        const [r] = await q.query<{ admitted: boolean; oldest: string | null }>(TAKE, [key, k.now_ms, k.next_seq, WINDOW_MS, this.perMinute]);
        return { ...r, now_ms: k.now_ms };
      }), this.opts.timeoutMs ?? 2000);
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
