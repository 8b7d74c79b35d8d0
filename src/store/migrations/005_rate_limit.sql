-- The per-user rate limit, shared by every replica: each key's admitted requests within the
-- window (epoch milliseconds by the database's clock, oldest first). One row per key, changed
-- only by one atomic upsert, so replicas taking from the same key at once are serialised.
create table rate_limit_hits (
  key         text primary key,
  hits        bigint[] not null,
  -- Whether the latest request was admitted; set and returned by the same statement.
  admitted    boolean not null,
  updated_at  timestamptz not null default now()
);
create index rate_limit_hits_updated on rate_limit_hits (updated_at);
