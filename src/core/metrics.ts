import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  return { registry, commands, duration };
}

export type Metrics = ReturnType<typeof createMetrics>;
