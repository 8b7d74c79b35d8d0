import type { Config } from '../config/schema.ts';
import { errorMessage, UserError } from '../core/errors.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import { msg } from '../i18n/index.ts';
import { limit, TimedOutError } from '../targets/errors.ts';
import type { HostExecutor, Targets } from '../targets/types.ts';
import type { DiagnoseFacts, Text } from './verdict.ts';

const LOG_LINES = 50;
const HOST_GRACE_MS = 250;

/**
 * What an attempt gave: a value, or the error (ours as a message still to translate, a server's
 * as it said it). `timedOut` is set when the work passed a time limit, with the limit when it was
 * the target's own (a host's `timeout`), which may differ from ours.
 */
export interface Attempt<V> {
  value?: V;
  error?: Text;
  timedOut?: { ms?: number };
}

/** Runs `work` within the check timeout; a failure becomes `{ error }` instead of an exception. */
async function attempt<V>(work: () => Promise<V>, ms: number): Promise<Attempt<V>> {
  try {
    return { value: await withTimeout(work(), ms) };
  } catch (err) {
    const error = err instanceof TimeoutError ? msg('checks:timeout', limit(err.ms)) : err instanceof UserError ? err.text : errorMessage(err);
    const timedOut = err instanceof TimedOutError ? { ms: err.ms } : err instanceof TimeoutError ? {} : undefined;
    return { error, timedOut };
  }
}

/**
 * Why a command on a host gave no answer, said as what it is: the session (or the host) failed,
 * not the thing the command was checking.
 */
function sessionFailure(hostName: string, r: Attempt<unknown>, ms: number): Text {
  const local = hostName === 'local';
  // The host's own limit may differ from ours (targets.hosts.<name>.timeout); its error says which.
  if (r.timedOut) return msg(local ? 'diagnose:session.command_timed_out' : 'diagnose:session.ssh_timed_out', limit(r.timedOut.ms ?? ms));
  return r.error ?? msg(local ? 'diagnose:session.command_failed' : 'diagnose:session.ssh_failed');
}

// timeout(1) exits 124 when the connect itself took longer than the template's 3 s.
const CONNECT_TIMED_OUT = 124;

/** tcpProbe's result: only an exit status from the probe itself speaks about the network. */
export function probeOutcome(
  r: Attempt<{ code: number | null; stderr: string }>,
  target: string,
  hostName: string,
  ms: number,
): { status: 'ok' | 'failed' | 'unchecked'; error?: Text } {
  if (!r.value) return { status: 'unchecked', error: sessionFailure(hostName, r, ms) };
  const { code, stderr } = r.value;
  if (code === 0) return { status: 'ok' };
  if (code === CONNECT_TIMED_OUT) return { status: 'failed', error: msg('diagnose:probe.no_answer', { target, seconds: 3 }) };
  if (code === 1) {
    // bash's first complaint ends with the reason: "…: connect: Connection refused", "…: Name or service not known".
    const first = stderr.split('\n').find((l) => l.trim()) ?? '';
    const why = first.slice(first.lastIndexOf(': ') + 1).trim().slice(0, 120);
    return { status: 'failed', error: why ? msg('diagnose:probe.refused', { target, why }) : msg('diagnose:probe.cannot_connect', { target }) };
  }
  // Killed, or the probe could not start (no bash, no timeout): nothing was learnt.
  const said = stderr.trim().slice(0, 120);
  const key = code === null ? (said ? 'diagnose:probe.killed_said' : 'diagnose:probe.killed') : said ? 'diagnose:probe.exit_said' : 'diagnose:probe.exit';
  return { status: 'unchecked', error: msg(key, { code, said }) };
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
        const error = r.value
          ? (ran ? undefined : msg('diagnose:ss_failed', { code: r.value.code ?? 'killed', reason: r.value.stderr.trim().slice(0, 120) }))
          : sessionFailure(hostName, r, ms);
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
