-- One row per fire of a schedule, inserted before the fire runs: the primary key is the claim,
-- so of several replicas exactly one runs (or reports missed) each (schedule, fire_at).
create table schedule_fires (
  schedule    text not null,
  fire_at     timestamptz not null,
  -- fire (on time) | catch_up (run at start, missed while down) | missed (reported, not run) | manual (/schedule run)
  kind        text not null,
  claimed_by  text not null,
  claimed_at  timestamptz not null default now(),
  -- null while running; then ok | warn | crit | denied | error | missed | …
  outcome     text,
  finished_at timestamptz,
  primary key (schedule, fire_at)
);
create index schedule_fires_recent on schedule_fires (schedule, claimed_at desc);

-- What each schedule looked like when first seen: catch-up never reaches back past `since`, so a
-- new, changed or re-enabled schedule does not report fires from before it existed in this form.
create table schedule_registrations (
  schedule    text primary key,
  signature   text not null,
  since       timestamptz not null default now()
);
