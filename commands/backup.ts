import { z } from 'zod';
import type { Config } from '../src/config/schema.ts';
import { defineCommand, type AnyCommand, type ExecContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { didYouMean } from '../src/core/suggest.ts';
import { msg, type T } from '../src/i18n/index.ts';
import type { Plan } from '../src/approvals/plan.ts';
import { backupsFor, type Backups } from '../src/backup/index.ts';
import { findBackup } from '../src/backup/check.ts';
import { dumpPostgres, dumpReport, type DumpMode } from '../src/backup/dump.ts';
import { verifyBackup } from '../src/backup/verify.ts';
import { prunePlan, runPrune } from '../src/backup/prune.ts';
import { filesCommand } from '../src/backup/files.ts';
import type { BackupRow } from '../src/backup/store.ts';
import { pgBackupConfig } from '../src/backup/where.ts';

const USAGE = [
  { syntax: '/backup [target] [--data-only | --schema-only]', note: 'backup:usage.backup' },
  { syntax: '/backup files [name]', note: 'backup:usage.files' },
  { syntax: '/backup list [target]', note: 'backup:usage.list' },
  { syntax: '/backup verify <id|latest>', note: 'backup:usage.verify' },
  { syntax: '/backup prune [target] [--dry-run]', note: 'backup:usage.prune' },
];

/** The backups of the running bot; a clear error when there is no state store to keep them in. */
export function backups(config: Config): Backups {
  const b = backupsFor(config);
  if (!b) throw new UserError(msg('backup:errors.unavailable'));
  return b;
}

/** A backups.postgres name: the one given, or the only one configured. */
export function pickTarget(config: Config, given: string | undefined, usage = USAGE): string {
  const known = Object.keys(config.backups.postgres);
  if (!known.length) throw new UserError(msg('backup:errors.none_configured'));
  if (given === undefined) {
    if (known.length === 1) return known[0];
    throw new UserError(msg('backup:errors.which_target', { known }), { usage });
  }
  if (!known.includes(given)) {
    const guess = didYouMean(given, known);
    throw new UserError(msg('backup:errors.unknown_target', { target: given, known }), { hint: guess && `/backup ${guess}`, usage });
  }
  pgBackupConfig(config, given);
  return given;
}

const ageText = (t: T, at: Date) => t.duration(Date.now() - new Date(at).getTime());

function verifiedText(t: T, r: BackupRow): string {
  if (r.verify_ok === null || r.verify_ok === undefined) return t('backup:list.unverified');
  return r.verify_ok ? t('backup:list.verified', { at: new Date(r.verified_at!) }) : t('backup:list.verify_failed', { at: new Date(r.verified_at!) });
}

function listLine(t: T, r: BackupRow): string {
  const where = [r.run_on, ...r.copies.filter((c) => c.ok).map((c) => `${c.host}:${c.path}`)];
  const state = r.state === 'ok' ? '' : ` · ${t(`backup:state.${r.state}`)}`;
  return t('backup:list.line', {
    id: r.id, at: new Date(r.started_at), age: ageText(t, r.started_at), size: Number(r.size_bytes ?? 0),
    mode: t(`backup:mode.${r.mode}`), verified: verifiedText(t, r), where,
  }) + state;
}

const list = defineCommand({
  // i18n-exempt: the command's name
  name: 'backup list',
  summary: 'backup:usage.list',
  permission: 'backup',
  usage: [USAGE[2]],
  positionals: ['target'],
  args: z.object({ target: z.string().optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const rows = await backups(ctx.config).store.list({ target: ctx.args.target, limit: 50 });
    return {
      title: t('backup:list.title'),
      status: 'info',
      summary: rows.length ? t('backup:list.summary', { count: rows.length, zone: t.timeZone }) : t('backup:list.none'),
      sections: rows.length ? [{ title: t('backup:list.heading'), lines: rows.map((r) => listLine(t, r)) }] : [],
    };
  },
});

const verify = defineCommand({
  // i18n-exempt: the command's name
  name: 'backup verify',
  summary: 'backup:usage.verify',
  permission: 'backup',
  usage: [USAGE[3]],
  positionals: ['id'],
  job: true,
  cancellable: true,
  args: z.object({ id: z.string().default('latest') }),
  async plan(ctx): Promise<Plan> {
    const row = await findBackup(backups(ctx.config).store, ctx.args.id);
    return {
      summary: msg('backup:plan.verify', { id: row.id, size: Number(row.size_bytes ?? 0) }),
      steps: [msg('backup:plan.verify_checksums', { files: row.manifest.files.length }), msg('backup:plan.verify_restore'), msg('backup:plan.verify_drop')],
      risk: 'low',
      target: { lock: `postgres:${row.target}`, backup: row.id },
    };
  },
  async execute(ctx: ExecContext, plan: Plan) {
    const b = backups(ctx.config);
    return verifyBackup(ctx, b.store, await findBackup(b.store, String(plan.target.backup)));
  },
});

const prune = defineCommand({
  // i18n-exempt: the command's name
  name: 'backup prune',
  summary: 'backup:usage.prune',
  permission: 'backup',
  usage: [USAGE[4]],
  positionals: ['target'],
  destructive: true,
  args: z.object({ target: z.string().optional() }),
  async plan(ctx): Promise<Plan> {
    return prunePlan(ctx.config, backups(ctx.config).store, ctx.args.target === undefined ? undefined : pickTarget(ctx.config, ctx.args.target, [USAGE[4]]));
  },
  async execute(ctx: ExecContext, plan: Plan) {
    return runPrune(ctx, backups(ctx.config).store, plan);
  },
});

export default defineCommand({
  name: 'backup',
  summary: 'backup:summary',
  usage: USAGE,
  positionals: ['target'],
  job: true,
  cancellable: true,
  subcommands: { list, verify, prune, files: filesCommand as AnyCommand },
  args: z.object({ target: z.string().optional(), dataOnly: z.boolean().default(false), schemaOnly: z.boolean().default(false) }),
  async plan(ctx): Promise<Plan> {
    const { args, config } = ctx;
    if (args.dataOnly && args.schemaOnly) throw new UserError(msg('backup:errors.both_modes'), { usage: USAGE });
    const target = pickTarget(config, args.target);
    const cfg = pgBackupConfig(config, target);
    const mode: DumpMode = args.dataOnly ? 'data-only' : args.schemaOnly ? 'schema-only' : 'full';
    return {
      summary: msg(`backup:plan.summary.${mode}`, { target, where: cfg.run_on, dir: cfg.dir }),
      steps: [msg('backup:plan.step_dump', { jobs: cfg.jobs }), msg('backup:plan.step_checksums'), ...(cfg.copy_to ? [msg('backup:plan.step_copy', { host: cfg.copy_to.host, dir: cfg.copy_to.dir })] : [])],
      risk: 'low',
      target: { lock: `postgres:${target}`, target, mode },
    };
  },
  async execute(ctx: ExecContext, plan: Plan) {
    const store = backups(ctx.config).store;
    const { manifest, copy } = await dumpPostgres(ctx, store, String(plan.target.target), plan.target.mode as DumpMode, ctx.requestId);
    return dumpReport(ctx, manifest, copy);
  },
});
