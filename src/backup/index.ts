/**
 * Backups (manual §2): what commands/backup.ts and commands/restore.ts share, and what other
 * features call (the data-loss playbook lists candidate backups through `candidateBackups`).
 */
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { Store } from '../store/types.ts';
import type { Scheduler } from '../schedule/index.ts';
import type { Targets } from '../targets/types.ts';
import { BackupStore, type BackupRow } from './store.ts';
import { cleanupRestores } from './restore.ts';

export interface Backups {
  store: BackupStore;
  /** The state store itself, for what backups read of other tables (a restore's request). */
  db: Store;
}

const byConfig = new WeakMap<Config, Backups>();

/** The backup store of the bot running with this config; undefined in setups without a state store. */
export function backupsFor(config: Config): Backups | undefined {
  return byConfig.get(config);
}

/**
 * Wires backups to the state store and registers their housekeeping schedule: databases replaced
 * by a restore are dropped after restore.keep_previous, and leftovers of interrupted restores and
 * verifications (side and scratch databases) once their run is over.
 */
export function createBackups(deps: { store: Store; config: Config; targets: Targets; scheduler?: Scheduler; log: Logger }): Backups {
  const backups: Backups = { store: new BackupStore(deps.store), db: deps.store };
  byConfig.set(deps.config, backups);
  if (deps.scheduler && Object.keys(deps.config.backups.postgres).length) {
    deps.scheduler.schedule('restore-cleanup', 15 * 60_000, async () => {
      await backups.store.failOrphans();
      await cleanupRestores(deps.config, deps.store, deps.log);
      // i18n-exempt: what /schedule list shows it runs, a name like a command line
    }, { label: '/restore cleanup' });
  }
  return backups;
}

export interface CandidateBackup {
  id: string;
  target: string;
  mode: string;
  startedAt: Date;
  sizeBytes: number;
  verified: 'ok' | 'failed' | 'never';
  verifiedAt: Date | null;
}

/**
 * For the data-loss playbook (manual §8.2, "find the latest backup"): complete backups of a
 * target (or all), newest first, with their verification state; /restore <id> takes any of them.
 */
export async function candidateBackups(config: Config, opts: { target?: string; limit?: number } = {}): Promise<CandidateBackup[]> {
  const b = backupsFor(config);
  if (!b) return [];
  const rows = await b.store.list({ kind: 'postgres', target: opts.target, limit: opts.limit ?? 10 });
  return rows.filter((r: BackupRow) => r.state === 'ok' && r.mode === 'full').map((r) => ({
    id: r.id,
    target: r.target,
    mode: r.mode,
    startedAt: new Date(r.started_at),
    sizeBytes: Number(r.size_bytes ?? 0),
    verified: r.verify_ok === null ? 'never' : r.verify_ok ? 'ok' : 'failed',
    verifiedAt: r.verified_at ? new Date(r.verified_at) : null,
  }));
}
