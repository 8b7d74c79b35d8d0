import { grade, worst } from '../core/report.ts';
import type { RedisHealth } from '../targets/types.ts';
import { ms, pct } from './format.ts';
import type { Evaluate } from './types.ts';

export const evaluateRedis: Evaluate<RedisHealth> = (name, where, f, t) => {
  const limited = f.maxMemoryBytes > 0;
  const memPct = limited ? (f.usedMemoryBytes / f.maxMemoryBytes) * 100 : 0;
  const status = worst([
    grade(f.latencyMs, t.latency_ms),
    limited ? grade(memPct, t.redis_memory_percent) : 'ok',
    grade(f.evictedKeys, t.redis_evicted_keys),
  ]);
  const memory = limited
    ? `${f.usedMemoryHuman} of maxmemory ${f.maxMemoryHuman} (${pct(memPct)})`
    : `${f.usedMemoryHuman} (no maxmemory)`;
  return {
    lines: [{
      name: `redis ${name}`,
      status,
      text: `${ms(f.latencyMs)}, ${memory}, ${f.evictedKeys} evicted, ${f.connectedClients} clients, ${f.dbsize} keys, ${f.role}`,
    }],
    detail: {
      title: `Redis ${name} (${where})`,
      lines: [
        `PING: ${ms(f.latencyMs)}`,
        `version: ${f.version}, role: ${f.role}`,
        `memory: ${memory}`,
        `evicted keys: ${f.evictedKeys}`,
        `connected clients: ${f.connectedClients}`,
        `DBSIZE: ${f.dbsize}`,
      ],
    },
  };
};
