/**
 * §7.1 升级前准备, before anything changes: the new images on the engine (pulled when missing), the
 * config files archived, and a verified backup of the database no older than backup_max_age,
 * taken and verified through the backup code when there is none.
 */
import type { ExecContext } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { backupsFor } from '../backup/index.ts';
import { findBackup } from '../backup/check.ts';
import { dumpPostgres } from '../backup/dump.ts';
import { archiveFiles } from '../backup/files.ts';
import { verifyBackup } from '../backup/verify.ts';
import { engineFor, recentVerifiedBackup, type SwitchItem } from './plan.ts';

function backupStore(ctx: ExecContext) {
  const b = backupsFor(ctx.config);
  if (!b) throw new UserError(msg('backup:errors.unavailable'));
  return b.store;
}

/** Each item's new image on its engine, pulled when missing; its id (what the switch creates from). */
export async function ensureImages(ctx: ExecContext, items: SwitchItem[], lines: string[]): Promise<Map<string, string>> {
  const { t } = ctx;
  const ids = new Map<string, string>();
  for (const i of items) {
    const engine = engineFor(ctx.config, i.docker);
    let img = await engine.image(i.toImage);
    if (!img) {
      await ctx.progress(t('upgrade:progress.pull', { image: i.toImage, docker: i.docker }));
      const pulled = await engine.pull(i.toImage, ctx.config.upgrade.pull_timeout);
      if (!pulled.ok) throw new UserError(msg('upgrade:errors.image_missing', { image: i.toImage, docker: i.docker, reason: pulled.reason }));
      img = await engine.image(i.toImage);
      if (!img) throw new UserError(msg('upgrade:errors.image_missing', { image: i.toImage, docker: i.docker, reason: '-' }));
      lines.push(t('upgrade:line.pulled', { image: i.toImage, id: img.id.slice(7, 19) }));
    } else lines.push(t('upgrade:line.image', { image: i.toImage, id: img.id.slice(7, 19) }));
    // Approved against one image: a tag moved since is a different upgrade.
    if (i.toImageId && img.id !== i.toImageId) throw new UserError(msg('upgrade:errors.image_moved', { image: i.toImage, planned: i.toImageId.slice(7, 19), now: img.id.slice(7, 19) }));
    ids.set(i.service, img.id);
  }
  return ids;
}

/** The backups.files sets of upgrade.files, archived now; their ids. */
export async function backupFiles(ctx: ExecContext, sets: string[], lines: string[]): Promise<void> {
  for (const name of sets) {
    await ctx.progress(ctx.t('upgrade:progress.files', { name }));
    const m = await archiveFiles(ctx, backupStore(ctx), name);
    lines.push(ctx.t('upgrade:line.files', { name, id: m.id }));
  }
}

/**
 * The backup the upgrade starts from: the one found when planning if it is still there and
 * verified, else any recent verified one, else a new one, dumped and verified now.
 */
export async function verifiedBackup(ctx: ExecContext, target: string, planned: string | null, lines: string[]): Promise<string> {
  const { t } = ctx;
  const store = backupStore(ctx);
  const found = planned ? await store.get(planned) : undefined;
  const id = found && found.state === 'ok' && found.verify_ok === true ? found.id : await recentVerifiedBackup(ctx.config, target);
  if (id) {
    const row = await store.get(id);
    lines.push(t('upgrade:line.backup_found', { id, at: row?.verified_at ? new Date(row.verified_at).getTime() : 0 }));
    return id;
  }
  await ctx.progress(t('upgrade:progress.backup', { target }));
  const { manifest } = await dumpPostgres(ctx, store, target, 'full', ctx.requestId);
  await ctx.progress(t('upgrade:progress.verify', { id: manifest.id }));
  await verifyBackup(ctx, store, await findBackup(store, manifest.id));
  const row = await store.get(manifest.id);
  if (row?.verify_ok !== true) throw new UserError(msg('upgrade:errors.backup_unverified', { id: manifest.id }));
  lines.push(t('upgrade:line.backup_taken', { id: manifest.id }));
  return manifest.id;
}
