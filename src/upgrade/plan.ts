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

/** Another upgrade, rollback or restore running now whose services overlap these: refused before anyone approves. */
export async function conflict(config: Config, services: string[], self?: string): Promise<Msg | undefined> {
  const rows = await upgrades(config).db.query<{ id: string; command: string; args_text: string; plan: { target: Record<string, unknown> } }>(
    `select id, command, args_text, plan from approval_requests where state = 'running' and command in ('upgrade', 'rollback', 'restore', 'restore undo') and id <> $1`,
    [self ?? ''],
  );
  for (const r of rows) {
    // A restore stops the app's writers (restore.stop_services) for its swap.
    const theirs = r.command.startsWith('restore') ? config.restore.stop_services : itemsOf(r.plan.target).map((i) => i.service);
    const shared = services.filter((s) => theirs.includes(s));
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
