import { formatDuration } from '../config/duration.ts';
import { grade, worst } from '../core/report.ts';
import type { PostgresHealth } from '../targets/types.ts';
import { humanBytes, ms, pct } from './format.ts';
import type { Evaluate } from './types.ts';

export const evaluatePostgres: Evaluate<PostgresHealth> = (name, where, f, t) => {
  const usedPct = (f.connections / f.maxConnections) * 100;
  const tx = f.longestTransactionMs;
  const statuses = [
    grade(f.latencyMs, t.latency_ms),
    grade(usedPct, t.pg_connections_percent),
    tx === null ? 'ok' as const : grade(tx, t.pg_longest_transaction),
  ];
  const txText = tx === null ? 'no open transaction' : `longest tx ${formatDuration(tx)}`;
  return {
    lines: [{
      name: `postgres ${name}`,
      status: worst(statuses),
      text: `${ms(f.latencyMs)}, v${f.version}, ${f.connections}/${f.maxConnections} connections, ${txText}, ${f.database} ${humanBytes(f.databaseSizeBytes)}`,
    }],
    detail: {
      title: `PostgreSQL ${name} (${where})`,
      lines: [
        `select 1: ${ms(f.latencyMs)}`,
        `version: ${f.version}`,
        `connections: ${f.connections} of max_connections ${f.maxConnections} (${pct(usedPct)})`,
        tx === null ? 'longest transaction: none open' : `longest transaction: ${formatDuration(tx)} (pid ${f.longestTransactionPid})`,
        `database ${f.database}: ${humanBytes(f.databaseSizeBytes)}`,
      ],
    },
  };
};
