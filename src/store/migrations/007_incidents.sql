-- Incidents (manual §8): one row per incident, its timeline, the plan's checklist and follow-ups.
create sequence incident_seq;
create table incidents (
  id              integer primary key,          -- the number people say: "incident 12"
  title           text not null,
  type            text not null,                -- outage | data-loss | security
  severity        text not null,                -- a key of config incidents.severities
  status          text not null default 'investigating', -- investigating | identified | monitoring | resolved
  channel         text unique,                  -- the incident's own channel, once created
  channel_name    text,
  declared_by     text not null,
  declared_in     text not null,                -- where /incident declare was typed
  roles           jsonb not null default '{}',  -- role name → user id
  card_ts         text,
  checklist_ts    text,
  announce_channel text,
  announce_ts     text,
  summary         text,
  postmortem      text,
  declared_at     timestamptz not null default now(),
  acknowledged_at timestamptz,                  -- the first thing a person did after declaring
  mitigated_at    timestamptz,                  -- status first reached monitoring (or resolved)
  resolved_at     timestamptz,
  last_update_at  timestamptz not null default now(), -- the last /incident update (or the declaration)
  reminded_at     timestamptz,                  -- the last "no update for a while" reminder
  card_refreshed_at timestamptz,
  archived_at     timestamptz
);
create index incidents_open on incidents (status) where status <> 'resolved';

-- The timeline: what happened, when (`at` is the event's own time, e.g. a pinned message's ts).
create table incident_events (
  id           bigserial primary key,
  incident_id  integer not null references incidents (id),
  at           timestamptz not null,
  kind         text not null,   -- declared | role | status | severity | checklist | command | approval | pin | note | update | followup | resolved | reminder
  actor        text,
  text         text not null default '',
  detail       jsonb not null default '{}',
  -- A message pinned twice (or by two people) is one entry.
  source_ts    text,
  unique (incident_id, source_ts)
);
create index incident_events_by_time on incident_events (incident_id, at, id);

create table incident_checklist (
  incident_id  integer not null references incidents (id),
  item         text not null,
  done_by      text not null,
  done_at      timestamptz not null default now(),
  primary key (incident_id, item)
);

create table incident_followups (
  id           bigserial primary key,
  incident_id  integer not null references incidents (id),
  text         text not null,
  owner        text,
  created_by   text not null,
  created_at   timestamptz not null default now()
);

-- The change freeze: a destructive command asked outside the incident's channel also needs the
-- incident commander's vote.
alter table approval_requests add column required_approver text;
alter table approval_requests add column incident_id integer;
