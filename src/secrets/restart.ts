/**
 * Restarting a secret's dependents, the way /restart does it (docker restart with the service's
 * stop timeout, then waiting for running and healthy within its ready timeout), one at a time.
 */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import type { ContainerInfo, DockerExecutor, Targets } from '../targets/types.ts';

export interface Dependent {
  service: string;
  docker: string;
  container: string;
}

export interface Restarted {
  service: string;
  container: string;
  ready: boolean;
  ms: number;
  /** The container as last seen (state, health), or the error that stopped the restart. */
  info: ContainerInfo | null;
  error?: unknown;
}

/** The services' containers, in the order config lists them; each must have docker and a container. */
export function dependents(config: Config, services: readonly string[]): Dependent[] {
  return services.map((service) => {
    const svc = config.services[service];
    if (!svc?.docker || !svc.container) throw new UserError(msg('secrets:errors.no_container', { service }));
    return { service, docker: svc.docker, container: svc.container };
  });
}

export function dockerOf(targets: Targets, d: Dependent): DockerExecutor {
  const docker = targets.docker.get(d.docker);
  if (!docker) throw new UserError(msg('restart:errors.docker_unconfigured', { name: d.docker }));
  return docker;
}

/** Restarts one dependent and waits until it is running (and healthy, with a healthcheck). Never throws. */
export async function restartOne(config: Config, targets: Targets, d: Dependent): Promise<Restarted> {
  const svc = config.services[d.service];
  const t0 = Date.now();
  try {
    const docker = dockerOf(targets, d);
    const before = await docker.inspect(d.container);
    if (!before) throw new UserError(msg('restart:errors.disappeared', { name: d.container }));
    await docker.restart(before.id, { stopTimeoutSec: Math.round(svc.stop_timeout / 1000) });
    const { ready, info } = await docker.waitReady(before.id, { deadlineMs: svc.ready_timeout, startedAfter: before.startedAt ?? undefined });
    return { service: d.service, container: d.container, ready, ms: Date.now() - t0, info };
  } catch (err) {
    return { service: d.service, container: d.container, ready: false, ms: Date.now() - t0, info: null, error: err };
  }
}
