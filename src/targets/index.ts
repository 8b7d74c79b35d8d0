import type { Config } from '../config/schema.ts';
import { AlertmanagerTarget } from './alertmanager.ts';
import { DockerTarget } from './docker.ts';
import { LocalHost } from './local-host.ts';
import { PostgresTarget } from './postgres.ts';
import { PrometheusTarget } from './prometheus.ts';
import { RedisTarget } from './redis.ts';
import { SshHost } from './ssh.ts';
import type { DockerExecutor, HostExecutor, PostgresExecutor, RedisExecutor, Targets } from './types.ts';

export type * from './types.ts';

/** Builds one executor per configured target. Connections open lazily, on first use. */
export function createTargets(config: Config): Targets {
  const timeout = config.health.timeout;
  const postgres = new Map<string, PostgresExecutor>();
  const redis = new Map<string, RedisExecutor>();
  const hosts = new Map<string, HostExecutor>();
  const docker = new Map<string, DockerExecutor>();
  for (const [name, t] of Object.entries(config.targets.postgres)) postgres.set(name, new PostgresTarget(name, t.url, t.timeout ?? timeout));
  for (const [name, t] of Object.entries(config.targets.redis)) redis.set(name, new RedisTarget(name, t.url, t.timeout ?? timeout));
  for (const [name, t] of Object.entries(config.targets.docker)) docker.set(name, new DockerTarget(name, t, timeout));
  if (config.targets.local) hosts.set('local', new LocalHost(timeout));
  for (const [name, t] of Object.entries(config.targets.hosts)) hosts.set(name, new SshHost(name, t, t.timeout ?? timeout));
  return {
    postgres,
    redis,
    hosts,
    docker,
    alertmanager: config.alerts.alertmanager ? new AlertmanagerTarget(config.alerts.alertmanager.url, config.alerts.alertmanager.timeout) : undefined,
    prometheus: config.alerts.prometheus ? new PrometheusTarget(config.alerts.prometheus.url, config.alerts.prometheus.timeout) : undefined,
    async close() {
      const all = [...postgres.values(), ...redis.values(), ...hosts.values(), ...docker.values()];
      await Promise.allSettled(all.map((t) => t.close()));
    },
  };
}
