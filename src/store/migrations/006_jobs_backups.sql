-- Jobs: commands that run on the approval engine's rails (card, lease, progress, interruption)
-- without needing votes, e.g. /backup. A running job or action may be asked to stop from its card.
alter table approval_requests add column stop_requested_by text;
-- What a run holds exclusively, e.g. "postgres:main": one backup, verify or restore per target at
-- a time, across replicas. The database enforces it: a second run cannot enter 'running'.
alter table approval_requests add column lock_key text;
create unique index approval_requests_one_running_per_lock on approval_requests (lock_key) where state = 'running' and lock_key is not null;

-- Every backup made (PostgreSQL dumps and file archives), with its manifest; the manifest is also
-- stored beside the backup's files. Rows are kept after pruning (state 'deleted') for the record.
create table backups (
  id           text primary key,
  kind         text not null,              -- postgres | files
  target       text not null,              -- backups.postgres or backups.files key
  mode         text not null,              -- full | data-only | schema-only | files
  state        text not null,              -- running | ok | failed | deleted
  run_on       text not null,              -- local | host:<name> | docker:<target>/<container>
  path         text not null,              -- the backup's directory or archive where it was made
  request_id   text,
  manifest     jsonb,
  size_bytes   bigint,
  error        text,
  copies       jsonb not null default '[]',
  started_at   timestamptz not null default now(),
  finished_at  timestamptz,
  verified_at  timestamptz,
  verify_ok    boolean,
  verify_detail jsonb,
  deleted_at   timestamptz
);
create index backups_by_target on backups (kind, target, started_at desc);
