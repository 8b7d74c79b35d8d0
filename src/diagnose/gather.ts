import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import { seconds } from '../targets/templates.ts';
import type { HostExecutor, Targets } from '../targets/types.ts';
import type { DiagnoseFacts } from './verdict.ts';

const LOG_LINES = 50;
const HOST_GRACE_MS = 250;

/** Runs `work` within the check timeout; a failure becomes `{ error }` instead of an exception. */
async function attempt<T>(work: () => Promise<T>, ms: number): Promise<{ value?: T; error?: string; timedOut?: boolean }> {
  try {
    return { value: await withTimeout(work(), ms) };
  } catch (err) {
    const message = errorMessage(err);
    return { error: message, timedOut: err instanceof TimeoutError || /timed out/i.test(message) };
  }
}

/**
 * Why a command on a host gave no answer, said as what it is: the session (or the host) failed,
 * not the thing the command was checking.
 */
function sessionFailure(hostName: string, r: { error?: string; timedOut?: boolean }, ms: number): string {
  const session = hostName === 'local' ? 'the command' : 'the SSH session';
  // The host's own limit may differ from ours (targets.hosts.<name>.timeout); its message says which.
  if (r.timedOut) return `${session} timed out after ${/timed out after (\d+(?:\.\d+)? m?s)\b/.exec(r.error ?? '')?.[1] ?? seconds(ms)}`;
  return r.error ?? `${session} failed`;
}

// timeout(1) exits 124 when the connect itself took longer than the template's 3 s.
const CONNECT_TIMED_OUT = 124;

/** tcpProbe's result: only an exit status from the probe itself speaks about the network. */
export function probeOutcome(
  r: { value?: { code: number | null; stderr: string }; error?: string; timedOut?: boolean },
  target: string,
  hostName: string,
  ms: number,
): { status: 'ok' | 'failed' | 'unchecked'; error?: string } {
  if (!r.value) return { status: 'unchecked', error: sessionFailure(hostName, r, ms) };
  const { code, stderr } = r.value;
  if (code === 0) return { status: 'ok' };
  if (code === CONNECT_TIMED_OUT) return { status: 'failed', error: `no answer from ${target} within 3 s` };
  if (code === 1) {
    // bash's first complaint ends with the reason: "…: connect: Connection refused", "…: Name or service not known".
    const first = stderr.split('\n').find((l) => l.trim()) ?? '';
    const why = first.slice(first.lastIndexOf(': ') + 1).trim().slice(0, 120);
    return { status: 'failed', error: `cannot connect to ${target}${why ? `: ${why}` : ''}` };
  }
  // Killed, or the probe could not start (no bash, no timeout): nothing was learnt.
  return { status: 'unchecked', error: `the probe could not run (${code === null ? 'killed' : `exit ${code}`}${stderr.trim() ? `: ${stderr.trim().slice(0, 120)}` : ''})` };
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
  // Commands on the host get a little longer than the host's own limit, so that its error, which
  // tells a handshake that never came from a command that ran too long, is the one reported.
  const hostMs = ms + HOST_GRACE_MS;
  // A service without a host (or with host: local) is looked at from the machine opsbot runs on.
  const host: HostExecutor | undefined = targets.hosts.get(svc.host ?? 'local');
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
    ? attempt(() => host.run('listening', []), hostMs).then((r) => {
        const ran = r.value && r.value.code === 0;
        const error = r.value ? (ran ? undefined : `ss -ltn failed (exit ${r.value.code ?? 'killed'}): ${r.value.stderr.trim().slice(0, 120)}`) : sessionFailure(hostName, r, ms);
        return { host: hostName, port: svc.port!, listening: ran ? isListening(r.value!.stdout, svc.port!) : null, error };
      })
    : undefined;

  const disk = host
    ? attempt(() => host.health(), hostMs).then((r) => ({
        host: hostName, disks: r.value?.disks ?? [], critPercent: config.health.thresholds.disk_percent.crit, error: r.value ? undefined : sessionFailure(hostName, r, ms),
      }))
    : undefined;

  const probe = async (url: string, defaultPort: number) => {
    if (!svc.host || !host) return null; // no app host: the bot's own login is the only view
    const { host: h, port: p } = endpoint(url, defaultPort);
    const r = await attempt(() => host.run('tcpProbe', [h, p]), hostMs);
    return { from: hostName, ...probeOutcome(r, `${h}:${p}`, hostName, ms) };
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
