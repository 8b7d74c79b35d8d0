import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import type { HostExecutor, Targets } from '../targets/types.ts';
import type { DiagnoseFacts } from './verdict.ts';

const LOG_LINES = 50;

/** Runs `work` within the check timeout; a failure becomes `{ error }` instead of an exception. */
async function attempt<T>(work: () => Promise<T>, ms: number): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await withTimeout(work(), ms) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** `ss -ltn` output: is anything listening on `port`, on any address? */
export function isListening(ss: string, port: number): boolean {
  return ss.split('\n').slice(1).some((line) => {
    const local = line.trim().split(/\s+/)[3] ?? '';
    return local.endsWith(`:${port}`);
  });
}

function endpoint(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || defaultPort) };
}

/**
 * The manual's §4.1 runbooks as one pass, everything in parallel: the container (state, exit
 * code, last log lines, command), its port on the host, the host's disk, and every database and
 * Redis — a TCP connect from the app host and a real login from here.
 */
export async function gatherFacts(service: string, config: Config, targets: Targets): Promise<DiagnoseFacts> {
  const svc = config.services[service];
  const ms = config.health.timeout;
  const host: HostExecutor | undefined = svc.host ? targets.hosts.get(svc.host) : targets.hosts.get('local');
  const hostName = svc.host ?? 'local';
  const docker = svc.docker ? targets.docker.get(svc.docker) : undefined;

  const container = docker && svc.container
    ? (async () => {
        const info = await attempt(() => docker.inspect(svc.container!), ms);
        const logs = info.value ? await attempt(() => docker.logs(info.value!.id, { tail: LOG_LINES }), ms) : {};
        return { name: svc.container!, info: info.value ?? null, logTail: (logs.value ?? '').split('\n').filter(Boolean), error: info.error };
      })()
    : undefined;

  const port = svc.port && host
    ? attempt(() => host.run('listening', []), ms).then((r) => ({
        host: hostName, port: svc.port!, listening: r.value ? isListening(r.value.stdout, svc.port!) : null, error: r.error,
      }))
    : undefined;

  const disk = host
    ? attempt(() => host.health(), ms).then((r) => ({ host: hostName, disks: r.value?.disks ?? [], critPercent: config.health.thresholds.disk_percent.crit, error: r.error }))
    : undefined;

  const probe = async (url: string, defaultPort: number) => {
    if (!svc.host || !host) return null; // no app host: the bot's own login is the only view
    const { host: h, port: p } = endpoint(url, defaultPort);
    const r = await attempt(() => host.run('tcpProbe', [h, p]), ms);
    return { ok: r.value?.code === 0, from: hostName, error: r.error ?? (r.value && r.value.code !== 0 ? `cannot connect to ${h}:${p}` : undefined) };
  };
  const deps = [
    ...[...targets.postgres.values()].map(async (t) => {
      const [login, tcp] = await Promise.all([attempt(() => t.health(), ms), probe(config.targets.postgres[t.name].url, 5432)]);
      return { kind: 'postgres' as const, name: t.name, where: t.where, tcp, login: { ok: !login.error, error: login.error } };
    }),
    ...[...targets.redis.values()].map(async (t) => {
      const [login, tcp] = await Promise.all([attempt(() => t.health(), ms), probe(config.targets.redis[t.name].url, 6379)]);
      return { kind: 'redis' as const, name: t.name, where: t.where, tcp, login: { ok: !login.error, error: login.error } };
    }),
  ];

  const [c, p, d, ...ds] = await Promise.all([container, port, disk, ...deps]);
  return { service, container: c, port: p, disk: d, deps: ds };
}
