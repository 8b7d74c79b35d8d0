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
