-- Capacity planning (manual appendix A, 容量规划): figures sampled by each scheduled /health, fitted by /capacity.
create table capacity_samples (
  at      timestamptz not null,               -- when the check read the figure (one value per run)
  kind    text not null,                      -- disk | database | redis
  target  text not null,                      -- the targets.hosts / targets.postgres / targets.redis name
  item    text not null default '',           -- disk: the mount; database: the database's name; redis: ''
  value   double precision not null,          -- disk: percent used; database and redis: bytes
  total   double precision                    -- disk: bytes the percent is of (used + available); redis: maxmemory; null when none
);
-- /capacity reads one window of every series; pruning deletes by age.
create index capacity_samples_series on capacity_samples (kind, target, item, at);
create index capacity_samples_at on capacity_samples (at);
