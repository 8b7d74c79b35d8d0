import { grade, worst } from '../core/report.ts';
import type { PostgresHealth } from '../targets/types.ts';
import { ms, pct } from './format.ts';
import type { Evaluate } from './types.ts';

export const evaluatePostgres: Evaluate<PostgresHealth> = (name, where, f, { thresholds, t }) => {
  const usedPct = (f.connections / f.maxConnections) * 100;
  const tx = f.longestTransactionMs;
  const statuses = [
    grade(f.latencyMs, thresholds.latency_ms),
    grade(usedPct, thresholds.pg_connections_percent),
    tx === null ? 'ok' as const : grade(tx, thresholds.pg_longest_transaction),
  ];
  const latency = ms(t, f.latencyMs);
  const size = t.bytes(f.databaseSizeBytes);
  const connections = t.number(f.connections);
  const max = t.number(f.maxConnections);
  const txText = tx === null ? t('checks:postgres.no_tx') : t('checks:postgres.longest_tx', { duration: t.duration(tx) });
  return {
    lines: [{
      name: t('checks:label.postgres', { name }),
      status: worst(statuses),
      text: t('checks:postgres.line', { latency, version: f.version, connections, max, tx: txText, database: f.database, size }),
    }],
    detail: {
      title: t('checks:postgres.title', { name, where }),
      lines: [
        `select 1: ${latency}`,
        t('checks:postgres.version', { version: f.version }),
        t('checks:postgres.connections', { connections, max, percent: pct(t, usedPct) }),
        tx === null ? t('checks:postgres.longest_none') : t('checks:postgres.longest', { duration: t.duration(tx), pid: f.longestTransactionPid }),
        t('checks:postgres.size', { database: f.database, size }),
      ],
    },
  };
};
