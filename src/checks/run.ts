import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import type { CheckLine, Section } from '../core/report.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import type { Targets } from '../targets/types.ts';
import { evaluateContainers } from './containers.ts';
import { evaluateHost } from './host.ts';
import { evaluatePostgres } from './postgres.ts';
import { evaluateRedis } from './redis.ts';
import type { CheckResult, Evaluate } from './types.ts';

export const CHECK_KINDS = ['postgres', 'redis', 'host', 'containers'] as const;
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

/** One target's check, bounded by its timeout; a failure becomes a ❌ line, never an exception. */
async function runOne<T>(probe: Probe<T>, evaluate: Evaluate<T>, config: Config, timeoutMs: number): Promise<CheckResult> {
  const label = `${probe.kind} ${probe.name}`;
  try {
    const facts = await withTimeout(probe.health(), timeoutMs);
    return evaluate(probe.name, probe.where, facts, config.health.thresholds);
  } catch (err) {
    const text = err instanceof TimeoutError ? err.message : errorMessage(err);
    return {
      lines: [{ name: label, status: 'crit', text }],
      detail: { title: `${label} (${probe.where})`, lines: [`unreachable: ${text}`] },
    };
  }
}

/** Runs every check of the chosen kinds in parallel; the slowest is bounded by its own timeout. */
export async function runChecks(targets: Targets, config: Config, kinds: readonly CheckKind[] = CHECK_KINDS): Promise<CheckRun> {
  const timeout = (t?: number) => t ?? config.health.timeout;
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
      jobs.push(runOne({ kind: 'host', name: t.name, where: t.where, health: () => t.health() }, evaluateHost, config, timeout(config.targets.hosts[t.name]?.timeout)));
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
  const results = await Promise.all(jobs);
  return { lines: results.flatMap((r) => r.lines), details: results.map((r) => r.detail) };
}
