-- Every command invocation and every step of a destructive action.
create table audit_events (
  id          bigserial primary key,
  at          timestamptz not null default now(),
  actor       text not null,
  channel     text,
  command     text not null,
  args        text not null default '',
  outcome     text not null,
  ref         text,
  detail      jsonb not null default '{}'::jsonb
);
create index audit_events_at on audit_events (at desc);
create index audit_events_actor on audit_events (actor, at desc);
