import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import type { HostExecutor, Targets } from '../targets/types.ts';
import { DockerExecHost } from './docker-exec.ts';

export type PgBackupConfig = Config['backups']['postgres'][string];

/**
 * The machine a target's dumps run on (`run_on`), as a HostExecutor: local, an SSH host, or a
 * container reached with docker exec. Backup data stays there; the bot only runs templates on it.
 */
export function backupHost(targets: Targets, runOn: string): HostExecutor {
  if (runOn === 'local' || runOn.startsWith('host:')) {
    const name = runOn === 'local' ? 'local' : runOn.slice('host:'.length);
    const host = targets.hosts.get(name);
    if (!host) throw new UserError(msg('backup:errors.no_host', { host: name }));
    return host;
  }
  const m = /^docker:([^/]+)\/(.+)$/.exec(runOn);
  const docker = m && targets.docker.get(m[1]);
  if (!m || !docker) throw new UserError(msg('backup:errors.no_host', { host: runOn }));
  return new DockerExecHost(docker, m[2]);
}

/** The backup config of a PostgreSQL target, or a clear error naming the configured ones. */
export function pgBackupConfig(config: Config, target: string): PgBackupConfig {
  const c = config.backups.postgres[target];
  if (!c) {
    const known = Object.keys(config.backups.postgres);
    throw new UserError(known.length ? msg('backup:errors.unknown_target', { target, known }) : msg('backup:errors.none_configured'));
  }
  if (!config.targets.postgres[target]) throw new UserError(msg('backup:errors.unknown_target', { target, known: Object.keys(config.targets.postgres) }));
  return c;
}

/** The target's URL as the dump machine reaches it: backups.postgres.<t>.url, else targets.postgres.<t>.url. */
export function dumpUrl(config: Config, target: string): string {
  return config.backups.postgres[target]?.url ?? config.targets.postgres[target].url;
}
