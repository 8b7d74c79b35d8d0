import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import type { CheckLine, Section } from '../core/report.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import type { Targets } from '../targets/types.ts';
import { evaluateContainers } from './containers.ts';
import { countErrorLines, evaluateErrors } from './error-log.ts';
import { evaluateHost } from './host.ts';
import { evaluatePostgres } from './postgres.ts';
import { evaluateRedis } from './redis.ts';
import type { CheckResult, Evaluate } from './types.ts';

export const CHECK_KINDS = ['postgres', 'redis', 'host', 'containers', 'errors'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export interface CheckRun {
  lines: CheckLine[];
  details: Section[];
}

interface Probe<T> {
  kind: CheckKind;
  name: string;
  where: string;
  health(): Promise<T>;
}

/** Runs at most `max` jobs at once; the rest wait in order. */
type Pool = <T>(job: () => Promise<T>) => Promise<T>;

function pool(max: number): Pool {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (job) => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const direct: Pool = (job) => job();

/**
 * One target's check; a failure becomes a ❌ line, never an exception. The timeout runs from the
 * start of /health, time spent waiting for a pool slot included, so a queue of hung hosts cannot
 * push the report past the longest timeout.
 */
async function runOne<T>(probe: Probe<T>, evaluate: Evaluate<T>, config: Config, timeoutMs: number, gate: Pool = direct): Promise<CheckResult> {
  const label = `${probe.kind} ${probe.name}`;
  const deadline = performance.now() + timeoutMs;
  try {
    const facts = await gate(async () => {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(timeoutMs);
      return withTimeout(probe.health(), left).catch((err: unknown) => {
        throw err instanceof TimeoutError ? new TimeoutError(timeoutMs) : err;
      });
    });
    return evaluate(probe.name, probe.where, facts, config.health.thresholds);
  } catch (err) {
    const text = err instanceof TimeoutError ? err.message : errorMessage(err);
    // A refused host key was reached, and says so itself; everything else could not be read.
    const said = text.startsWith('unreachable') || (err as Error).name === 'HostKeyMismatchError';
    return {
      lines: [{ name: label, status: 'crit', text }],
      detail: { title: `${label} (${probe.where})`, lines: [said ? text : `unreachable: ${text}`] },
    };
  }
}

/** Runs every check of the chosen kinds in parallel; the slowest is bounded by its own timeout. */
export async function runChecks(targets: Targets, config: Config, kinds: readonly CheckKind[] = CHECK_KINDS): Promise<CheckRun> {
  const timeout = (t?: number) => t ?? config.health.timeout;
  const hostTimeout = (name: string) => timeout(config.targets.hosts[name]?.timeout);
  // Hosts fan out (one SSH connection each), so they share a bound; the few databases do not.
  const hostPool = pool(config.health.concurrency);
  const jobs: Array<Promise<CheckResult>> = [];
  if (kinds.includes('postgres')) {
    for (const t of targets.postgres.values()) {
      jobs.push(runOne({ kind: 'postgres', name: t.name, where: t.where, health: () => t.health() }, evaluatePostgres, config, timeout(config.targets.postgres[t.name]?.timeout)));
    }
  }
  if (kinds.includes('redis')) {
    for (const t of targets.redis.values()) {
      jobs.push(runOne({ kind: 'redis', name: t.name, where: t.where, health: () => t.health() }, evaluateRedis, config, timeout(config.targets.redis[t.name]?.timeout)));
    }
  }
  if (kinds.includes('host')) {
    for (const t of targets.hosts.values()) {
      jobs.push(runOne({ kind: 'host', name: t.name, where: t.where, health: () => t.health() }, evaluateHost, config, hostTimeout(t.name), hostPool));
    }
  }
  if (kinds.includes('containers')) {
    for (const t of targets.docker.values()) {
      const cfg = config.targets.docker[t.name];
      const health = async () => ({ project: cfg?.project, containers: await t.list() });
      // list() is one call plus an inspect per container, each with its own timeout; bounding the
      // whole check by the same figure keeps a slow engine from stretching /health.
      jobs.push(runOne({ kind: 'containers', name: t.name, where: t.where, health }, evaluateContainers, config, timeout(cfg?.timeout)));
    }
  }
  if (kinds.includes('errors')) {
    const window = config.health.error_log;
    for (const [name, svc] of Object.entries(config.services)) {
      const file = svc.logs.error;
      if (!svc.host || !file) continue;
      const host = targets.hosts.get(svc.host);
      const where = `${svc.host}:${file}`;
      const health = async () => {
        if (!host) throw new Error(`host ${svc.host} is not configured`);
        return { host: host.name, file, window, count: await countErrorLines(host, file, window) };
      };
      jobs.push(runOne({ kind: 'errors', name, where, health }, evaluateErrors, config, hostTimeout(svc.host), hostPool));
    }
  }
  const results = await Promise.all(jobs);
  return { lines: results.flatMap((r) => r.lines), details: results.map((r) => r.detail) };
}
