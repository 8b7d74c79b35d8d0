-- The shared per-user rate limit, kept as a queue per key instead of one array per key: the
-- array had to be rewritten whole on every request, which cost O(limit) per command (a limit of
-- thousands a minute rewrote a row of tens of thousands of entries each time). Now each request
-- is one row; the window is the key's newest rows, found through the index; expired rows are
-- deleted as the queue moves on. The same sliding window, at O(1) per request.
drop table if exists rate_limit_hits;

-- One row per key: its lock (every take of a key holds it, so replicas are serialised per key)
-- and the sequence number of its next request.
create table rate_limit_keys (
  key         text primary key,
  next_seq    bigint not null default 0,
  updated_at  timestamptz not null default now()
);
create index rate_limit_keys_updated on rate_limit_keys (updated_at);

-- Each admitted request: its key, its place in the key's queue, and when (epoch ms).
create table rate_limit_log (
  key  text not null,
  seq  bigint not null,
  at   bigint not null,
  primary key (key, seq)
);
-- The window's first request, found without reading the ones that left it.
create index rate_limit_log_at on rate_limit_log (key, at, seq);

-- One take, in one call: the key's row is locked first, and each statement after it sees what the
-- take before it committed (a function's statements each take a new snapshot under READ
-- COMMITTED, which one statement with CTEs would not). Holding the lock only for the server's own
-- work, not for round trips to the bot, lets one busy key go as fast as the database does.
-- Returns whether it was admitted, the oldest request still in the window, and the time used.
create function rate_limit_take(p_key text, p_now bigint, p_window bigint, p_limit bigint,
                                out admitted boolean, out oldest bigint, out now_ms bigint)
language plpgsql volatile as $$
declare
  v_next bigint;
  v_first bigint;
begin
  insert into rate_limit_keys as k (key) values (p_key)
  on conflict (key) do update set updated_at = now()
  returning k.next_seq into v_next;
  now_ms := coalesce(p_now, floor(extract(epoch from clock_timestamp()) * 1000)::bigint);
  select seq, at into v_first, oldest from rate_limit_log
   where key = p_key and at > now_ms - p_window order by at, seq limit 1;
  -- Requests that left the window come before it in the queue: each is deleted once, as it moves on.
  delete from rate_limit_log where key = p_key and seq < coalesce(v_first, v_next);
  -- The window is the queue's newest rows, numbered in order: their count is a subtraction.
  admitted := v_next - coalesce(v_first, v_next) < p_limit;
  if admitted then
    insert into rate_limit_log (key, seq, at) values (p_key, v_next, now_ms);
    update rate_limit_keys set next_seq = v_next + 1 where key = p_key;
  end if;
end $$;
