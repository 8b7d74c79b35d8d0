/** Off-host copies of backups (backups.postgres.<t>.copy_to): placeholder until the copy lands. */
import type { ExecContext } from '../core/define-command.ts';
import type { BackupCopy } from './store.ts';

export interface CopyRequest {
  /** Where the backup was made (run_on). */
  runOn: string;
  /** The backup's directory there. */
  dir: string;
  id: string;
  copyTo: { host: string; dir: string };
}

/** Copies one backup directory to copy_to.host:copy_to.dir/<id>; never throws: a failed copy is a result. */
export async function copyBackup(_ctx: ExecContext, req: CopyRequest): Promise<BackupCopy> {
  return { host: req.copyTo.host, path: `${req.copyTo.dir}/${req.id}`, at: new Date().toISOString(), ok: false, error: 'not supported yet' };
}
