/**
 * An approved /upgrade or /rollback, step by step on its card: preflight, announce, migrate,
 * switch, verify; and on a failure after the first stop, every switched service put back on its
 * previous container, automatically. The database is never restored automatically: the card names
 * the /restore of the preflight backup, which needs its own approval.
 */
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage, readerMessage } from '../core/errors.ts';
import { channelMention, userMention } from '../core/mention.ts';
import type { Report, Status } from '../core/report.ts';
import { isMsg, type Msg, type T } from '../i18n/index.ts';
import { stamp as timeStamp } from '../backup/ids.ts';
import { runMigration, type Migration } from './migrate.ts';
import { engineFor, expectedDowntime, itemsOf, upgrades, type SwitchPlanTarget } from './plan.ts';
import { backupFiles, ensureImages, verifiedBackup } from './preflight.ts';
import { dropPrevious, SwitchFailed, switchBack, switchTo, type Switched } from './switch.ts';
import { settle } from './verify.ts';

const seconds = (t: T, ms: number) => t.number(ms / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** What a run did so far, for the card whichever way it ends. */
interface Run {
  lines: string[];
  backupId: string | null;
  migration?: Migration;
  switched: Switched[];
}

async function announce(ctx: ExecContext, key: string, params: Record<string, unknown>, status: Status): Promise<void> {
  const channel = ctx.config.upgrade.announce;
  if (!channel) return;
  const u = upgrades(ctx.config);
  const t = u.readers.forChannel(channel);
  await u.post(channel, { title: t('upgrade:announce.title'), status, summary: t(key, params) }, t)
    .catch((err: unknown) => ctx.log.warn({ err: errorMessage(err), channel }, 'upgrade announcement failed'));
}

const downtimeLines = (t: T, switched: Switched[]) => switched.map((s) => t('upgrade:line.downtime', { service: s.item.service, seconds: seconds(t, s.downMs) }));
const totalDown = (switched: Switched[]) => switched.reduce((n, s) => n + s.downMs, 0);

export async function runSwitchPlan(ctx: ExecContext, target: SwitchPlanTarget): Promise<Report> {
  const { t } = ctx;
  const items = itemsOf(target);
  const names = items.map((i) => i.service).join(' ');
  const title = target.kind === 'upgrade' ? `/upgrade ${names} ${items[0].tag}` : `/rollback ${names}`;
  const run: Run = { lines: [], backupId: target.backupId, switched: [] };
  const stamp = timeStamp(new Date()).toLowerCase();
  const what = items.map((i) => `${i.service} → ${i.tag}`);

  // 1. Preflight: nothing has changed if any of it fails.
  await ctx.progress(t('upgrade:progress.preflight'));
  const imageIds = await ensureImages(ctx, items, run.lines);
  await backupFiles(ctx, JSON.parse(target.files) as string[], run.lines);
  if (target.backupTarget && target.kind === 'upgrade') run.backupId = await verifiedBackup(ctx, target.backupTarget, target.backupId, run.lines);

  // 2. Announce (通知用户), with the downtime to expect.
  const expected = await expectedDowntime(ctx.config, items);
  await announce(ctx, `upgrade:announce.start_${target.kind}`, { what, ms: expected.ms, id: ctx.requestId }, 'info');
  if (ctx.config.upgrade.announce) run.lines.push(t('upgrade:line.announced', { channel: channelMention(ctx.config.upgrade.announce) }));

  // 3. Migrate, in a one-off container of the new image, while the old version serves.
  const migrateItem = target.migrate ? items.find((i) => i.service === ctx.config.upgrade.migrate?.service) : undefined;
  if (migrateItem) {
    const cmd = ctx.config.upgrade.migrate!.command;
    await ctx.progress(t('upgrade:progress.migrate', { command: cmd.join(' '), image: migrateItem.toImage }));
    run.migration = await runMigration(ctx, migrateItem, migrateItem.toImage, cmd, stamp);
    const m = run.migration;
    run.lines.push(m.code === 0 ? t('upgrade:line.migrated', { command: cmd.join(' ') }) : m.code === null && m.started
      ? t('upgrade:line.migrate_timeout', { command: cmd.join(' '), ms: ctx.config.upgrade.migrate!.timeout })
      : t('upgrade:line.migrate_failed', { command: cmd.join(' '), code: m.code ?? '-', detail: m.error ?? '' }));
    if (m.tail.length) run.lines.push(...m.tail.map((l) => `  ${l}`));
    if (m.code !== 0) return failed(ctx, title, run, t('upgrade:fail.where_migrate'), undefined);
  }

  // 4 and 5. Anything that stops the run once a container was switched (a lost lease, an engine
  // error outside a step) is undone like a failed step: a half-switched service is never left behind.
  try {
    // 4. Switch each service, in the order given.
    for (const item of items) {
      await ctx.progress(t('upgrade:progress.switch', { service: item.service, from: item.fromImage, to: item.toImage }));
      try {
        const s = await switchTo(ctx, item, imageIds.get(item.service)!, stamp);
        run.switched.push(s);
        run.lines.push(t('upgrade:line.switched', { service: item.service, from: item.fromImage, to: item.toImage, seconds: seconds(t, s.downMs) }));
      } catch (err) {
        if (!(err instanceof SwitchFailed)) throw err;
        if (err.state.stopped) run.switched.push(err.state);
        return failed(ctx, title, run, t('upgrade:fail.where_switch', { service: item.service }), err.why);
      }
    }

    // 5. Verify for `settle`: health, no restarts, the smoke check.
    await ctx.progress(t('upgrade:progress.verify', { ms: ctx.config.upgrade.settle }));
    // An engine that stops answering is a failed verification too: the old containers are still there to go back to.
    const why = await settle(ctx, run.switched, ctx.config.upgrade.settle)
      .catch((err: unknown) => (err instanceof UserError ? err.text : errorMessage(err)));
    if (why) return failed(ctx, title, run, t('upgrade:fail.where_verify'), why);
  } catch (err) {
    if (!run.switched.length) throw err;
    return failed(ctx, title, run, t('upgrade:fail.where_interrupted'), err instanceof UserError ? err.text : errorMessage(err));
  }
  run.lines.push(t(ctx.config.upgrade.smoke ? 'upgrade:line.verified_smoke' : 'upgrade:line.verified', { ms: ctx.config.upgrade.settle }));

  // Kept: the old containers go, the change is recorded.
  await ctx.progress(t('upgrade:progress.finish')).catch(() => undefined);
  const versions = upgrades(ctx.config).versions;
  for (const s of run.switched) {
    try {
      const img = await engineFor(ctx.config, s.item.docker).image(imageIds.get(s.item.service)!);
      await versions.record({
        service: s.item.service, container: s.item.container, image: s.item.toImage, tag: s.item.tag, image_id: imageIds.get(s.item.service)!,
        digest: img?.digest ?? null, deployed_by: ctx.requester, kind: target.kind, replaced_image: s.item.fromImage, replaced_image_id: s.item.fromImageId,
        request_id: ctx.requestId, backup_id: run.backupId, downtime_ms: s.downMs,
      });
    } catch (err) {
      // The upgrade itself worked; without its record /rollback cannot find the way back, so the
      // old container is kept for that (by hand) and the card says so.
      run.lines.push(t('upgrade:line.record_failed', { service: s.item.service, name: s.prevName, detail: readerMessage(t, err) }));
      continue;
    }
    // Only once recorded is the old container removed: /rollback finds the previous image in the record.
    const problem = await dropPrevious(ctx, s);
    if (problem) run.lines.push(t('upgrade:line.prev_left', { name: s.prevName, detail: problem }));
  }
  const down = totalDown(run.switched);
  await announce(ctx, `upgrade:announce.done_${target.kind}`, { what, seconds: seconds(t, down) }, 'ok');
  if (target.restoreBackup) run.lines.push(await fileRestore(ctx, target.restoreBackup));
  return {
    title,
    status: 'ok',
    summary: t(`upgrade:result.ok_${target.kind}`, { what, seconds: seconds(t, down) }),
    sections: [{ title: t('upgrade:result.steps'), lines: [...run.lines, ...downtimeLines(t, run.switched)] }],
  };
}

/**
 * A failure after preflight: the switched services go back to their previous containers, and the
 * card says where it failed, whether the migration ran, the downtime, and the /restore to run.
 */
async function failed(ctx: ExecContext, title: string, run: Run, where: string, why: Msg | string | undefined): Promise<Report> {
  const { t } = ctx;
  const reason = why === undefined ? '' : isMsg(why) ? t.text(why) : why;
  const back: string[] = [];
  let allBack = true;
  for (const s of [...run.switched].reverse()) {
    await ctx.progress(t('upgrade:progress.rollback', { service: s.item.service, image: s.item.fromImage })).catch(() => undefined);
    try {
      const r = await switchBack(ctx, s);
      allBack &&= r.ready;
      back.push(t(r.ready ? 'upgrade:line.back' : 'upgrade:line.back_not_ready', { service: s.item.service, image: s.item.fromImage, state: r.state }));
      if (r.problem) back.push(t('upgrade:line.back_problem', { service: s.item.service, detail: r.problem }));
    } catch (err) {
      allBack = false;
      back.push(t('upgrade:line.back_failed', { service: s.item.service, detail: readerMessage(t, err) }));
    }
  }
  const lines = [...run.lines, t('upgrade:line.failed', { where, reason }), ...back];
  const ran = run.migration?.started === true;
  if (ran) lines.push(t('upgrade:line.migration_ran', { image: run.switched[0]?.item.toImage ?? '' }));
  if (run.backupId) lines.push(t(ran ? 'upgrade:line.restore_offer_ran' : 'upgrade:line.restore_offer', { command: `/restore ${run.backupId}` }));
  if (run.switched.length) lines.push(...downtimeLines(t, run.switched));
  const down = totalDown(run.switched);
  const summaryKey = !run.switched.length ? 'upgrade:result.failed_unchanged' : allBack ? 'upgrade:result.failed_rolled_back' : 'upgrade:result.failed_not_back';
  const summary = t(summaryKey, { where, reason, seconds: seconds(t, down), migrated: ran ? t('upgrade:result.migration_ran') : '' });
  await announce(ctx, allBack ? 'upgrade:announce.failed' : 'upgrade:announce.failed_down', { where, seconds: seconds(t, down) }, 'crit');
  return { title, status: 'crit', summary, sections: [{ title: t('upgrade:result.steps'), lines }] };
}

/** /rollback --with-data: the /restore of the preflight backup is filed as the requester, under its own approval. */
async function fileRestore(ctx: ExecContext, backup: string): Promise<string> {
  const { t } = ctx;
  const u = upgrades(ctx.config);
  const [req] = await u.db.query<{ channel: string }>('select channel from approval_requests where id = $1', [ctx.requestId]);
  let answer = '';
  await u.dispatch({ command: 'restore', text: backup, user: ctx.requester, channel: req?.channel ?? ctx.config.channels.ops?.id ?? '' }, async (reply) => {
    answer = reply.report.summary ?? reply.report.title;
  });
  return t('upgrade:line.restore_filed', { command: `/restore ${backup}`, user: userMention(ctx.requester), answer });
}
