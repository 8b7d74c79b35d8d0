/**
 * /backup verify (appendix A's monthly 备份验证): the checksums recomputed, then the backup
 * restored into a scratch database whose every table's rows are compared with the manifest; the
 * scratch database is dropped whatever happens. The result is recorded on the backup.
 */
import type { ExecContext } from '../core/define-command.ts';
import { errorMessage, readerMessage } from '../core/errors.ts';
import type { Report } from '../core/report.ts';
import { checksumProblems, restoreInto } from './check.ts';
import { stamp } from './ids.ts';
import { dropDatabase, splitUrl, withClient, withDatabase } from './pg.ts';
import type { BackupRow, BackupStore, Manifest } from './store.ts';
import { backupHost } from './where.ts';

export async function verifyBackup(ctx: ExecContext, store: BackupStore, row: BackupRow & { manifest: Manifest }): Promise<Report> {
  const { t } = ctx;
  const m = row.manifest;
  const host = backupHost(ctx.targets, row.run_on);
  const lines: string[] = [];
  let problems: string[] = [];

  await ctx.progress(t('backup:step.checksums'));
  problems = await checksumProblems(host, m, t, ctx.signal);
  lines.push(problems.length ? t('backup:verify.checksums_bad', { count: problems.length }) : t('backup:verify.checksums_ok', { files: m.files.length }));

  if (!problems.length && m.mode !== 'data-only') {
    const liveUrl = ctx.config.targets.postgres[m.target].url;
    const scratch = `${splitUrl(liveUrl).database}_verify_${stamp(new Date())}`;
    await ctx.progress(t('backup:step.scratch_restore', { database: scratch }));
    try {
      const restored = await restoreInto(ctx, row, scratch, `opsbot:${JSON.stringify({ kind: 'verify', request: ctx.requestId, backup: m.id })}`);
      problems = restored.problems;
      const rows = restored.counts.reduce((n, x) => n + (x.rows ?? 0), 0);
      lines.push(problems.length ? t('backup:verify.counts_bad', { count: problems.length }) : t('backup:verify.counts_ok', { tables: restored.counts.length, rows }));
    } catch (err) {
      // Stopped, or the lease lost: that says nothing about the backup, so nothing is recorded.
      if (ctx.signal.aborted) throw err;
      problems = [readerMessage(t, err)];
      lines.push(t('backup:verify.restore_failed'));
    } finally {
      await ctx.progress(t('backup:step.drop_scratch', { database: scratch })).catch(() => {});
      await withClient(withDatabase(liveUrl, 'postgres'), (c) => dropDatabase(c, scratch)).catch((err: unknown) => {
        lines.push(t('backup:verify.drop_failed', { database: scratch, detail: errorMessage(err) }));
      });
    }
  } else if (!problems.length) {
    lines.push(t('backup:verify.data_only'));
  }
  const ok = problems.length === 0;
  const summary = ok ? t('backup:verify.ok', { id: m.id }) : t('backup:verify.bad', { id: m.id });
  await store.verified(m.id, ok, { summary, lines: [...lines, ...problems.slice(0, 50)] });
  return {
    // i18n-exempt: the command line, the same in every language
    title: `/backup verify ${m.id}`,
    status: ok ? 'ok' : 'crit',
    summary,
    sections: [{ title: t('backup:verify.details'), lines: [...lines, ...problems.slice(0, 20)] }],
  };
}
