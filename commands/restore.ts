import { z } from 'zod';
import type { Plan } from '../src/approvals/plan.ts';
import { defineCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { msg } from '../src/i18n/index.ts';
import { findBackup } from '../src/backup/check.ts';
import { stamp } from '../src/backup/ids.ts';
import { splitUrl } from '../src/backup/pg.ts';
import { checkName, restoreState, runRestore, runUndo, whereRestoreIs, writers, type RestorePlanTarget } from '../src/backup/restore.ts';
import { backups, pickTarget } from './backup.ts';
import { conflict } from '../src/upgrade/plan.ts';

/** A restore stops the app's writers for its swap: not while an upgrade or rollback switches one of them. */
const notDuringUpgrade = (ctx: ExecContext) => conflict(ctx.config, ctx.config.restore.stop_services, ctx.requestId);

const USAGE = [
  { syntax: '/restore <backup-id|latest> [--target main]', note: 'restore:usage.restore' },
  { syntax: '/restore undo <request-id>', note: 'restore:usage.undo' },
  { syntax: '/restore status [target]', note: 'restore:usage.status' },
];

const undo = defineCommand({
  // i18n-exempt: the command's name
  name: 'restore undo',
  summary: 'restore:usage.undo',
  permission: 'restore',
  rule: 'restore',
  usage: [USAGE[1]],
  positionals: ['request'],
  destructive: true,
  args: z.object({ request: z.string().min(1) }),
  async plan(ctx): Promise<Plan> {
    const b = backups(ctx.config);
    if (!/^r-\d+$/.test(ctx.args.request)) throw new UserError(msg('restore:errors.not_a_restore', { id: ctx.args.request }), { usage: [USAGE[1]] });
    const [req] = await b.db.query<{ command: string; state: string; plan: Plan }>('select command, state, plan from approval_requests where id = $1', [ctx.args.request]);
    if (!req || req.command !== 'restore') throw new UserError(msg('restore:errors.not_a_restore', { id: ctx.args.request }));
    const p = req.plan.target as RestorePlanTarget;
    const dbs = await restoreState(ctx.config, p.target);
    const live = dbs.find((d) => d.name === p.database);
    if (!dbs.some((d) => d.name === p.before) || live?.mark?.kind !== 'live' || live.mark.request !== ctx.args.request) {
      throw new UserError(msg('restore:errors.nothing_to_undo', { id: ctx.args.request, before: p.before, database: p.database }));
    }
    const list = writers(ctx.config);
    const undone = checkName(`${p.database}_undone_${stamp(new Date())}`);
    return {
      summary: msg('restore:plan.undo_summary', { id: ctx.args.request, database: p.database, before: p.before }),
      steps: [
        msg('restore:plan.step_stop', { services: list.map((w) => `${w.service} (${w.container})`) }),
        msg('restore:plan.step_swap', { database: p.database, before: undone, side: p.before }),
        msg('restore:plan.step_start', { services: list.map((w) => w.service) }),
        msg('restore:plan.step_keep', { before: undone, keep: ctx.config.restore.keep_previous }),
      ],
      risk: 'high',
      riskNote: msg('restore:plan.undo_risk', { database: p.database }),
      target: { lock: `postgres:${p.target}`, target: p.target, database: p.database, before: p.before, undone, restoreRequest: ctx.args.request },
    };
  },
  precheck: notDuringUpgrade,
  async execute(ctx: ExecContext, plan: Plan) {
    const p = plan.target as { target: string; database: string; before: string; undone: string; restoreRequest: string };
    return runUndo(ctx, p);
  },
  async whereNow(ctx, plan) {
    const p = plan.target as { target: string; database: string; before: string; undone: string };
    return whereRestoreIs({ ...ctx, requestId: ctx.requestId }, p);
  },
});

const status = defineCommand({
  // i18n-exempt: the command's name
  name: 'restore status',
  summary: 'restore:usage.status',
  permission: 'restore',
  usage: [USAGE[2]],
  positionals: ['target'],
  args: z.object({ target: z.string().optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const target = pickTarget(ctx.config, ctx.args.target, [USAGE[2]]);
    const dbs = await restoreState(ctx.config, target);
    const lines = dbs.map((d) => t(`restore:status.${d.mark?.kind ?? 'plain'}`, {
      name: d.name, size: d.sizeBytes, request: d.mark?.request ?? '', backup: d.mark?.backup ?? '', at: d.mark?.until ? Date.parse(d.mark.until) : 0,
    }));
    return { title: t('restore:status.title', { target }), status: 'info', summary: t('restore:status.summary', { count: dbs.length }), sections: [{ title: t('restore:status.heading'), lines }] };
  },
});

export default defineCommand({
  name: 'restore',
  summary: 'restore:summary',
  usage: USAGE,
  positionals: ['backup'],
  destructive: true,
  cancellable: true,
  subcommands: { undo, status },
  args: z.object({ backup: z.string().min(1), target: z.string().optional() }),
  async plan(ctx): Promise<Plan> {
    const { config } = ctx;
    const store = backups(config).store;
    const target = ctx.args.target === undefined ? undefined : pickTarget(config, ctx.args.target, USAGE);
    const row = await findBackup(store, ctx.args.backup, target);
    if (target && row.target !== target) throw new UserError(msg('restore:errors.other_target', { id: row.id, target: row.target }));
    if (row.mode !== 'full') throw new UserError(msg('restore:errors.partial', { id: row.id, mode: row.mode }));
    pickTarget(config, row.target, USAGE);
    const database = splitUrl(config.targets.postgres[row.target].url).database;
    const when = stamp(new Date());
    const side = checkName(`${database}_restore_${when}`);
    const before = checkName(`${database}_before_${when}`);
    const list = writers(config);
    // The card says whether the backup was verified, and when (one message per case: a Msg cannot hold a Msg).
    const verified = row.verify_ok === true ? 'verified' : row.verify_ok === false ? 'verify_failed' : 'unverified';
    const stopMs = list.reduce((n, w) => Math.max(n, w.stopTimeoutSec * 1000), 0);
    return {
      summary: msg('restore:plan.summary', { id: row.id, database, at: new Date(row.started_at).getTime(), size: Number(row.size_bytes ?? 0), tables: row.manifest.tables.length }),
      steps: [
        msg('restore:plan.step_check', { files: row.manifest.files.length }),
        msg('restore:plan.step_side', { side, database }),
        msg('restore:plan.step_counts', { tables: row.manifest.tables.length }),
        msg('restore:plan.step_stop', { services: list.map((w) => `${w.service} (${w.container})`) }),
        msg('restore:plan.step_swap', { database, before, side }),
        msg('restore:plan.step_start', { services: list.map((w) => w.service) }),
        msg('restore:plan.step_keep', { before, keep: config.restore.keep_previous }),
      ],
      risk: 'high',
      // The downtime is the swap window only: stopping the writers, two renames, starting them.
      riskNote: msg(`restore:plan.risk_${verified}`, { at: row.verified_at ? new Date(row.verified_at).getTime() : 0, stopMs, services: list.length, restoreMs: row.manifest.duration_ms }),
      target: { lock: `postgres:${row.target}`, target: row.target, backup: row.id, database, side, before } satisfies RestorePlanTarget,
    };
  },
  precheck: notDuringUpgrade,
  async execute(ctx: ExecContext, plan: Plan) {
    const p = plan.target as RestorePlanTarget;
    const row = await findBackup(backups(ctx.config).store, p.backup);
    return runRestore(ctx, row, p);
  },
  async whereNow(ctx, plan) {
    return whereRestoreIs(ctx, plan.target as RestorePlanTarget);
  },
});
