import type { Config } from '../config/schema.ts';
import { errorMessage, UserError } from '../core/errors.ts';
import type { CheckLine, Section } from '../core/report.ts';
import { TimeoutError, withTimeout } from '../core/timeout.ts';
import { msg, type T } from '../i18n/index.ts';
import { limit } from '../targets/errors.ts';
import type { Targets } from '../targets/types.ts';
import { evaluateContainers } from './containers.ts';
import { countErrorLines, evaluateErrors } from './error-log.ts';
import { evaluateHost } from './host.ts';
import { evaluatePostgres } from './postgres.ts';
import { evaluateRedis } from './redis.ts';
import type { CheckResult, Evaluate, EvaluateContext } from './types.ts';

export const CHECK_KINDS = ['postgres', 'redis', 'host', 'containers', 'errors'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export interface CheckRun {
  lines: CheckLine[];
  details: Section[];
}

/**
 * What the targets said, before it is put in words: one run can be shared by readers of
 * different languages (a storm of /health in an English and a Chinese channel), and each reader
 * gets it rendered in their own.
 */
export interface CollectedRun {
  /** When the figures were read (epoch ms). */
  at: number;
  outcomes: Outcome[];
}

export type Outcome =
  | { ok: true; kind: CheckKind; name: string; where: string; facts: unknown; evaluate: Evaluate<unknown> }
  | { ok: false; kind: CheckKind; name: string; where: string; error: unknown };

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
 * One target's check; a failure becomes an outcome (later a ❌ line), never an exception. The
 * timeout runs from the start of /health, time spent waiting for a pool slot included, so a queue
 * of hung hosts cannot push the report past the longest timeout.
 */
async function runOne<F>(probe: Probe<F>, evaluate: Evaluate<F>, timeoutMs: number, gate: Pool = direct): Promise<Outcome> {
  const deadline = performance.now() + timeoutMs;
  try {
    const facts = await gate(async () => {
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(timeoutMs);
      return withTimeout(probe.health(), left).catch((err: unknown) => {
        throw err instanceof TimeoutError ? new TimeoutError(timeoutMs) : err;
      });
    });
    return { ok: true, kind: probe.kind, name: probe.name, where: probe.where, facts, evaluate: evaluate as Evaluate<unknown> };
  } catch (error) {
    return { ok: false, kind: probe.kind, name: probe.name, where: probe.where, error };
  }
}

const LABEL: Record<CheckKind, string> = {
  postgres: 'checks:label.postgres',
  redis: 'checks:label.redis',
  host: 'checks:label.host',
  containers: 'checks:label.containers',
  errors: 'checks:label.errors',
};

/** A failed check as the reader sees it: our own errors in their language, a server's as it said it. */
function failed(o: Extract<Outcome, { ok: false }>, t: T): CheckResult {
  const err = o.error;
  const label = t(LABEL[o.kind], { name: o.name });
  const text = err instanceof TimeoutError ? t('checks:timeout', limit(err.ms))
    : err instanceof UserError ? err.localized(t)
      : errorMessage(err);
  // A refused host key was reached, and says so itself, as does an error that is already about
  // reaching the target (its English form, kept for logs, says which); the rest could not be read.
  const said = (err instanceof UserError && err.message.startsWith('unreachable')) || (err as Error).name === 'HostKeyMismatchError';
  return {
    lines: [{ name: label, status: 'crit', text }],
    detail: { title: t('checks:detail_title', { label, where: o.where }), lines: [said ? text : t('checks:unreachable', { reason: text })] },
  };
}

/** The collected figures in the reader's words, graded against the configured thresholds. */
export function evaluateRun(run: CollectedRun, config: Config, t: T): CheckRun {
  const ctx: EvaluateContext = { thresholds: config.health.thresholds, t, now: run.at };
  const results = run.outcomes.map((o) => (o.ok ? o.evaluate(o.name, o.where, o.facts, ctx) : failed(o, t)));
  return { lines: results.flatMap((r) => r.lines), details: results.map((r) => r.detail) };
}

/** Collects and renders in one go, for a caller that does not share the run. */
export async function runChecks(targets: Targets, config: Config, kinds: readonly CheckKind[], t: T): Promise<CheckRun> {
  return evaluateRun(await collectChecks(targets, config, kinds), config, t);
}

/** Runs every check of the chosen kinds in parallel; the slowest is bounded by its own timeout. */
export async function collectChecks(targets: Targets, config: Config, kinds: readonly CheckKind[] = CHECK_KINDS): Promise<CollectedRun> {
  const timeout = (t?: number) => t ?? config.health.timeout;
  const hostTimeout = (name: string) => timeout(config.targets.hosts[name]?.timeout);
  // Hosts fan out (one SSH connection each), so they share a bound; the few databases do not.
  const hostPool = pool(config.health.concurrency);
  const jobs: Array<Promise<Outcome>> = [];
  if (kinds.includes('postgres')) {
    for (const t of targets.postgres.values()) {
      jobs.push(runOne({ kind: 'postgres', name: t.name, where: t.where, health: () => t.health() }, evaluatePostgres, timeout(config.targets.postgres[t.name]?.timeout)));
    }
  }
  if (kinds.includes('redis')) {
    for (const t of targets.redis.values()) {
      jobs.push(runOne({ kind: 'redis', name: t.name, where: t.where, health: () => t.health() }, evaluateRedis, timeout(config.targets.redis[t.name]?.timeout)));
    }
  }
  if (kinds.includes('host')) {
    for (const t of targets.hosts.values()) {
      jobs.push(runOne({ kind: 'host', name: t.name, where: t.where, health: () => t.health() }, evaluateHost, hostTimeout(t.name), hostPool));
    }
  }
  if (kinds.includes('containers')) {
    for (const t of targets.docker.values()) {
      const cfg = config.targets.docker[t.name];
      const health = async () => ({ project: cfg?.project, containers: await t.list() });
      // list() is one call plus an inspect per container, each with its own timeout; bounding the
      // whole check by the same figure keeps a slow engine from stretching /health.
      jobs.push(runOne({ kind: 'containers', name: t.name, where: t.where, health }, evaluateContainers, timeout(cfg?.timeout)));
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
        if (!host) throw new UserError(msg('checks:host_not_configured', { host: svc.host }));
        return { host: host.name, file, window, count: await countErrorLines(host, file, window) };
      };
      jobs.push(runOne({ kind: 'errors', name, where, health }, evaluateErrors, hostTimeout(svc.host), hostPool));
    }
  }
  const outcomes = await Promise.all(jobs);
  return { at: Date.now(), outcomes };
}
