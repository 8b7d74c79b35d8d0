-- The manual's checklists (appendix A): each posted checklist, what its automated items found,
-- and who checked the items that need a person.
create table checklist_runs (
  id           bigserial primary key,
  kind         text not null,               -- daily | weekly | monthly
  channel      text not null,
  started_by   text not null,
  results      jsonb not null default '{}', -- item → { status, summary } of the automated items
  created_at   timestamptz not null default now(),
  reminded_at  timestamptz                  -- the one end-of-day reminder about open items
);
create index checklist_runs_unreminded on checklist_runs (created_at) where reminded_at is null;

create table checklist_marks (
  run_id   bigint not null references checklist_runs (id),
  item     text not null,
  done_by  text not null,
  done_at  timestamptz not null default now(),
  primary key (run_id, item)
);
