-- /upgrade and /rollback (manual §7): which image each service runs, who deployed it, and what it replaced.
create table service_versions (
  id                bigserial primary key,
  service           text not null,              -- the services.<name>
  container         text not null,              -- the container's name (the same before and after)
  image             text not null,              -- the reference it was created from, repository:tag
  tag               text not null,
  image_id          text not null,              -- sha256:… of that image when it was deployed
  digest            text,                       -- the registry digest (repository@sha256:…), when the image has one
  deployed_at       timestamptz not null default now(),
  deployed_by       text not null,              -- who asked for it (the approval request's requester)
  kind              text not null,              -- upgrade | rollback
  replaced_image    text not null,              -- what ran before: its reference and id (what /rollback goes back to)
  replaced_image_id text not null,
  request_id        text not null,              -- the approval request that made the change
  backup_id         text,                       -- the verified backup taken or found before it (/rollback --with-data restores it)
  downtime_ms       integer not null            -- from stopping the old container to the new one being ready
);
create index service_versions_service on service_versions (service, id desc);
