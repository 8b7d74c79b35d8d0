import { grade, worst } from '../core/report.ts';
import type { RedisHealth } from '../targets/types.ts';
import { ms, pct } from './format.ts';
import type { Evaluate } from './types.ts';

/** Memory figures stay as Redis prints them (used_memory_human), so they match redis-cli INFO. */
export const evaluateRedis: Evaluate<RedisHealth> = (name, where, f, { thresholds, t }) => {
  const limited = f.maxMemoryBytes > 0;
  const memPct = limited ? (f.usedMemoryBytes / f.maxMemoryBytes) * 100 : 0;
  const status = worst([
    grade(f.latencyMs, thresholds.latency_ms),
    limited ? grade(memPct, thresholds.redis_memory_percent) : 'ok',
    grade(f.evictedKeys, thresholds.redis_evicted_keys),
  ]);
  const latency = ms(t, f.latencyMs);
  const memory = limited
    ? t('checks:redis.memory_limited', { used: f.usedMemoryHuman, max: f.maxMemoryHuman, percent: pct(t, memPct) })
    : t('checks:redis.memory_unlimited', { used: f.usedMemoryHuman });
  const line = {
    latency,
    memory,
    evicted: t('checks:redis.evicted', { count: f.evictedKeys }),
    clients: t('checks:redis.clients', { count: f.connectedClients }),
    keys: t('checks:redis.keys', { count: f.dbsize }),
    role: f.role,
  };
  return {
    lines: [{ name: t('checks:label.redis', { name }), status, text: t('checks:redis.line', line) }],
    detail: {
      title: t('checks:redis.title', { name, where }),
      lines: [
        `PING: ${latency}`,
        t('checks:redis.version', { version: f.version, role: f.role }),
        t('checks:redis.memory', { memory }),
        t('checks:redis.evicted_keys', { n: f.evictedKeys }),
        t('checks:redis.connected_clients', { n: f.connectedClients }),
        `DBSIZE: ${t.number(f.dbsize)}`,
      ],
    },
  };
};
