import type { Queryable } from '../store/types.ts';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import { RateLimiter, WINDOW_MS, type Limiter } from './rate-limit.ts';
import { withTimeout } from './timeout.ts';

/**
 * One statement takes a slot: the key's row is inserted or updated under its row lock, keeping
 * only the hits still in the window and appending this one when there is room. A refusal leaves
 * the row's hits as they were (refusals are not requests), exactly like the in-memory limiter.
 * $1 key, $2 limit, $3 now in epoch ms (null: the database's clock, the same for every replica),
 * $4 window in ms.
 */
const TAKE = `with clock as (select coalesce($3::bigint, floor(extract(epoch from clock_timestamp()) * 1000)::bigint) as now_ms)
insert into rate_limit_hits as r (key, hits, admitted, updated_at)
select $1, array[now_ms], true, now() from clock
on conflict (key) do update set
  hits = (select case when cardinality(kept) < $2 then kept || now_ms else kept end
          from (select c.now_ms, array(select h from unnest(r.hits) h where h > c.now_ms - $4 order by h) as kept from clock c) s),
  admitted = (select count(*) from unnest(r.hits) h, clock c where h > c.now_ms - $4) < $2,
  updated_at = now()
returning admitted, hits[1] as oldest, (select now_ms from clock) as now_ms`;

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
      const [row] = await withTimeout(this.store.query<{ admitted: boolean; oldest: string; now_ms: string }>(TAKE, [key, this.perMinute, now, WINDOW_MS]), this.opts.timeoutMs ?? 2000);
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
    this.store.query(`delete from rate_limit_hits where updated_at < now() - $1 * interval '1 millisecond'`, [2 * WINDOW_MS]).catch((err: unknown) => {
      this.log.warn({ err: errorMessage(err) }, 'rate limit: could not prune idle keys');
    });
  }
}
