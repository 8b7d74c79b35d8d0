-- Requests for destructive actions and the votes on them. Every state change is one conditional
-- UPDATE (… where state = 'pending' …), so only one caller ever wins a transition.
create table approval_requests (
  id              text primary key,
  command         text not null,
  args_text       text not null default '',
  plan            jsonb not null,
  plan_hash       text not null,
  requester       text not null,
  channel         text not null,
  card_channel    text,
  card_ts         text,
  rule            text not null,
  approver_roles  jsonb not null,
  approvals_needed integer not null,
  -- pending → approved → running → succeeded | failed | interrupted; or denied, cancelled, expired
  state           text not null default 'pending',
  break_glass     text,
  reason          text,
  decided_by      text,
  runner          text,
  lease_until     timestamptz,
  result          jsonb,
  created_at      timestamptz not null default now(),
  expires_at      timestamptz not null,
  updated_at      timestamptz not null default now(),
  started_at      timestamptz,
  finished_at     timestamptz
);
create index approval_requests_open on approval_requests (state, expires_at) where state in ('pending', 'approved', 'running');

create table approval_votes (
  request_id  text not null references approval_requests (id),
  approver    text not null,
  at          timestamptz not null default now(),
  primary key (request_id, approver)
);
