/**
 * The plans of /upgrade and /rollback, computed against the live engine and state store: which
 * containers, from which image to which, which backup the upgrade starts from, and the steps.
 */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type Msg } from '../i18n/index.ts';
import { candidateBackups } from '../backup/index.ts';
import { dockerRecreate, type DockerRecreate } from '../targets/docker-recreate.ts';
import { upgradesFor, type Upgrades } from './index.ts';

/** One container to switch from one image to another. */
export interface SwitchItem {
  service: string;
  docker: string;
  container: string;
  /** The container approved: the switch refuses to touch another one of the same name. */
  containerId: string;
  fromImage: string;
  fromImageId: string;
  toImage: string;
  tag: string;
  /** null: not on the engine when planned; the run pulls it. */
  toImageId: string | null;
  stopTimeoutSec: number;
  readyTimeoutMs: number;
}

/** plan.target of /upgrade and /rollback (flat, as plans are; lists as JSON). */
export interface SwitchPlanTarget {
  [key: string]: string | number | boolean | null;
  lock: string;
  kind: 'upgrade' | 'rollback';
  items: string;
  /** backups.postgres target the upgrade starts from a verified backup of; null: none configured (rollback). */
  backupTarget: string | null;
  /** A verified backup recent enough, found when planning; null: the run takes one. */
  backupId: string | null;
  files: string;
  migrate: boolean;
  /** /rollback --with-data: the backup whose /restore it files. */
  restoreBackup: string | null;
}

/** One upgrade or rollback at a time: they share the services and, through migrations, the database. */
export const LOCK = 'upgrade';

export const itemsOf = (t: Record<string, unknown>): SwitchItem[] => JSON.parse(String(t.items)) as SwitchItem[];

export function upgrades(config: Config): Upgrades {
  const u = upgradesFor(config);
  if (!u) throw new UserError(msg('upgrade:errors.unavailable'));
  return u;
}

/** The services /upgrade can switch: those with a Docker target and a container. */
export const switchable = (config: Config) => Object.keys(config.services).filter((s) => config.services[s].docker && config.services[s].container);

export function engineFor(config: Config, docker: string): DockerRecreate {
  const t = config.targets.docker[docker];
  if (!t) throw new UserError(msg('restart:errors.docker_unconfigured', { name: docker }));
  return dockerRecreate(docker, t.socket, t.timeout ?? Math.max(config.health.timeout, 10_000));
}

/** "repo:tag" → repo; "repo@sha256:…" and bare ids → themselves. */
export function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(0, at);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(0, colon) : image;
}

/**
 * The repository a service's new tag belongs to: services.<name>.image, else the container's own
 * image. A container made from a bare image id (a rollback to a tag that has moved since) names
 * no repository: the last recorded one is used, or the reader is asked to set it in config.
 */
export async function repositoryFor(config: Config, service: string, image: string | undefined, containerImage: string): Promise<string> {
  if (image) return image;
  if (!containerImage.startsWith('sha256:')) return repositoryOf(containerImage);
  const [last] = await upgrades(config).versions.latest(service);
  const named = [last?.image, last?.replaced_image].find((i) => i && !i.startsWith('sha256:'));
  if (named) return repositoryOf(named);
  throw new UserError(msg('upgrade:errors.no_repository', { service, image: containerImage.slice(0, 19) }));
}

export const tagOf = (image: string) => {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash && !image.includes('@') ? image.slice(colon + 1) : 'latest';
};

/** Checks each named service (known, with a container that exists) and returns its live container. */
export async function resolveServices(config: Config, names: string[], usage: UsageLine[]) {
  const known = switchable(config);
  if (!names.length) throw new UserError(msg('upgrade:errors.no_service', { known }), { usage });
  const seen = new Set<string>();
  const out = [];
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (!known.includes(name)) {
      const guess = didYouMean(name, known);
      throw new UserError(msg('upgrade:errors.unknown_service', { service: name, known }), { hint: guess, usage });
    }
    const svc = config.services[name];
    const engine = engineFor(config, svc.docker!);
    const raw = await engine.container(svc.container!);
    if (!raw) throw new UserError(msg('restart:errors.no_container', { container: svc.container, service: name, docker: svc.docker }));
    out.push({ name, svc, engine, raw });
  }
  return out;
}

/** The backups.postgres target an upgrade starts from: upgrade.database, or the only one configured. */
export function backupTargetOf(config: Config): string {
  const known = Object.keys(config.backups.postgres);
  if (config.upgrade.database) return config.upgrade.database;
  if (known.length === 1) return known[0];
  throw new UserError(known.length ? msg('upgrade:errors.which_database', { known }) : msg('upgrade:errors.no_database'));
}

/** The newest verified full backup of `target` no older than upgrade.backup_max_age. */
export async function recentVerifiedBackup(config: Config, target: string): Promise<string | null> {
  const since = Date.now() - config.upgrade.backup_max_age;
  const found = (await candidateBackups(config, { target, limit: 50 })).find((b) => b.verified === 'ok' && b.startedAt.getTime() >= since);
  return found?.id ?? null;
}

/** Commands whose run stops or restarts services, and which services they touch. */
// i18n-exempt: command names as approval requests store them
const SWITCHING = ['upgrade', 'rollback', 'restore', 'restore undo', 'restart', 'secrets rotate'] as const;
type Switching = (typeof SWITCHING)[number];

function servicesOf(config: Config, command: Switching, target: Record<string, unknown>): string[] {
  switch (command) {
    case 'upgrade':
    case 'rollback':
      return itemsOf(target).map((i) => i.service);
    // A restore stops the app's writers (restore.stop_services) for its swap.
    case 'restore':
    // i18n-exempt: a command name
    case 'restore undo':
      return config.restore.stop_services;
    case 'restart':
      return Object.entries(config.services).filter(([, s]) => s.container === target.containerName).map(([name]) => name);
    // i18n-exempt: a command name
    case 'secrets rotate':
      return config.secrets[String(target.secret)]?.services ?? [];
  }
}

/**
 * Another run (of `kinds`) in progress now whose services overlap these: an upgrade is refused
 * before anyone approves, and a restore, restart or rotation right before it starts, so that no
 * two of them stop, rename or restart the same container at once.
 */
export async function conflict(config: Config, services: string[], self?: string, kinds: readonly Switching[] = SWITCHING): Promise<Msg | undefined> {
  const rows = await upgrades(config).db.query<{ id: string; command: Switching; args_text: string; plan: { target: Record<string, unknown> } }>(
    `select id, command, args_text, plan from approval_requests where state = 'running' and command = any($2) and id <> $1`,
    [self ?? '', kinds],
  );
  for (const r of rows) {
    const shared = services.filter((s) => servicesOf(config, r.command, r.plan.target).includes(s));
    if (shared.length) return msg('upgrade:errors.busy', { id: r.id, command: `/${r.command} ${r.args_text}`.trim(), services: shared });
  }
  return undefined;
}

/** The downtime the announcement and the card expect: the last switch's of each service when known, else its limits. */
export async function expectedDowntime(config: Config, items: SwitchItem[]): Promise<{ ms: number; measured: boolean }> {
  const last = await upgrades(config).versions.latest();
  let ms = 0;
  let measured = true;
  for (const i of items) {
    const row = last.find((r) => r.service === i.service);
    if (row) ms += row.downtime_ms;
    else {
      measured = false;
      ms += i.stopTimeoutSec * 1000 + i.readyTimeoutMs;
    }
  }
  return { ms, measured };
}

/** Right before the run: each container is still the one approved, and nothing else touches these services now. */
export async function precheckSwitch(config: Config, target: Record<string, unknown>, requestId: string): Promise<Msg | undefined> {
  const items = itemsOf(target);
  for (const i of items) {
    const raw = await engineFor(config, i.docker).container(i.container);
    if (!raw) return msg('restart:precheck.gone', { name: i.container });
    if (raw.Id !== i.containerId) return msg('restart:precheck.recreated', { name: i.container, before: i.containerId.slice(0, 12), after: raw.Id.slice(0, 12) });
  }
  return conflict(config, items.map((i) => i.service), requestId);
}

/** The plan's steps, shared by /upgrade and /rollback. */
export function switchSteps(config: Config, items: SwitchItem[], extra: { pre: Array<Msg | string>; migrate: boolean; expected: { ms: number; measured: boolean } }): Array<Msg | string> {
  const u = config.upgrade;
  const steps: Array<Msg | string> = [...extra.pre];
  if (u.announce) steps.push(msg('upgrade:plan.announce', { channel: u.announce, ms: extra.expected.ms }));
  const m = extra.migrate ? items.find((i) => i.service === u.migrate?.service) : undefined;
  if (m) steps.push(msg('upgrade:plan.migrate', { command: u.migrate!.command.join(' '), image: m.toImage, ms: u.migrate!.timeout }));
  for (const i of items) {
    steps.push(msg('upgrade:plan.switch', { service: i.service, container: i.container, from: i.fromImage, to: i.toImage, stop: i.stopTimeoutSec, ms: i.readyTimeoutMs }));
  }
  const smoke = u.smoke;
  steps.push(!smoke ? msg('upgrade:plan.verify', { ms: u.settle })
    : 'url' in smoke ? msg('upgrade:plan.verify_url', { ms: u.settle, url: smoke.url, status: smoke.expect_status, text: smoke.expect_text ?? '' })
    : msg('upgrade:plan.verify_command', { ms: u.settle, command: smoke.command.join(' ') }));
  steps.push(msg('upgrade:plan.on_failure'));
  return steps;
}

export const imageShort = (id: string | null) => (id ? id.replace(/^sha256:/, '').slice(0, 12) : '-');
