-- Alertmanager notifications (manual §6.2): one row per alert group, which Slack message is its card.
create table alert_groups (
  id          bigserial primary key,            -- what the card's buttons and /alerts subcommands name
  group_key   text not null unique,             -- Alertmanager's groupKey: the unique claim that makes one card per group across replicas
  channel     text not null,
  ts          text,                             -- the card's message; null while the replica that claimed the group posts it
  claimed_at  timestamptz not null default now(), -- a claim whose post never landed (its replica died) may be taken over after a while
  status      text not null,                    -- firing | resolved, as last notified
  group_labels  jsonb not null default '{}',
  common_labels jsonb not null default '{}',
  payload     jsonb not null,                   -- the latest notification, so any replica can render the card again
  version     bigint not null default 1,        -- bumped on every notification: the poster re-renders if one arrived while it posted
  acked_by    text,
  acked_at    timestamptz,
  silences    jsonb not null default '[]',      -- silences made from the card: [{ id, by, until }]
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
