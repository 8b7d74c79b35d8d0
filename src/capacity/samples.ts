import type { CollectedRun } from '../checks/run.ts';
import type { HostHealth, PostgresHealth, RedisHealth } from '../targets/types.ts';
import type { Sample } from './store.ts';

/**
 * The figures capacity planning keeps from one health run: disk use per host and mount, each
 * database's size, Redis's used memory. Read from what the checks already collected, so sampling
 * costs no extra round trip to any target; failed checks give no sample (a gap, not a zero).
 */
export function samplesOf(run: CollectedRun): Sample[] {
  const samples: Sample[] = [];
  for (const o of run.outcomes) {
    if (!o.ok) continue;
    if (o.kind === 'host') {
      for (const d of (o.facts as HostHealth).disks) {
        const total = d.bytes ? d.bytes.used + d.bytes.avail : null;
        // df's own formula (used over used + available), unrounded: a whole percent moves too
        // coarsely for a fit over days.
        const value = d.bytes && total ? (d.bytes.used / total) * 100 : d.usePercent;
        samples.push({ kind: 'disk', target: o.name, item: d.mount, value, total });
      }
    } else if (o.kind === 'postgres') {
      const f = o.facts as PostgresHealth;
      samples.push({ kind: 'database', target: o.name, item: f.database, value: f.databaseSizeBytes, total: null });
    } else if (o.kind === 'redis') {
      const f = o.facts as RedisHealth;
      samples.push({ kind: 'redis', target: o.name, item: '', value: f.usedMemoryBytes, total: f.maxMemoryBytes > 0 ? f.maxMemoryBytes : null });
    }
  }
  return samples;
}
