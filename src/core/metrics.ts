import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Figures read when /metrics is scraped, from parts built after the registry (main.ts fills these in). */
export interface MetricSources {
  healthRuns?: () => number;
  queue?: () => { active: number; queued: number };
  auditBacklog?: () => number;
}

/** One registry per bot instance, so tests can run several bots in one process. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'opsbot_' });
  const commands = new Counter({
    name: 'opsbot_commands_total',
    help: 'Slash commands handled, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'opsbot_command_duration_seconds',
    help: 'Time from dispatch to reply, by command',
    labelNames: ['command'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const sources: MetricSources = {};
  const gauge = ({ name, help }: { name: string; help: string }, read: () => number | undefined) =>
    new Gauge({ name, help, registers: [registry], collect() { const v = read(); if (v !== undefined) this.set(v); } });
  // A gauge fed from a running total, so a check run counted anywhere shows here without a dependency on prom-client.
  gauge({ name: 'opsbot_health_check_runs_total', help: '/health check runs started (shared and cached requests do not start one)' }, () => sources.healthRuns?.());
  gauge({ name: 'opsbot_work_queue_active', help: 'Commands being worked on after their ack' }, () => sources.queue?.().active);
  gauge({ name: 'opsbot_work_queue_waiting', help: 'Commands acked and waiting for a worker' }, () => sources.queue?.().queued);
  gauge({ name: 'opsbot_audit_backlog', help: 'Audit rows queued for the next batch insert' }, () => sources.auditBacklog?.());
  return { registry, commands, duration, sources };
}

export type Metrics = ReturnType<typeof createMetrics>;
