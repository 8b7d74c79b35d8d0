/**
 * /secrets list: each secret's host, file, age and dependents. The age is the file's mtime on its
 * host (so a change made by hand counts too); the last rotation, and who asked and approved it,
 * come from the approval requests of /secrets rotate. Each host is read within its own timeout:
 * one that cannot be reached is a line that says so, never a failed report.
 */
import type { Config } from '../config/schema.ts';
import { UnavailableError, UserError, readerMessage } from '../core/errors.ts';
import { userMention } from '../core/mention.ts';
import { worst, type CheckLine, type Report, type Status } from '../core/report.ts';
import { source } from '../core/source.ts';
import type { T } from '../i18n/index.ts';
import type { Queryable } from '../store/types.ts';
import type { Targets } from '../targets/types.ts';
import { secretHost, type SecretConfig } from './secret.ts';

export interface Rotation {
  secret: string;
  requester: string;
  approvers: string[];
  breakGlass: boolean;
  finishedAt: Date;
}

/** The last successful rotation of each secret, from the approval requests. */
export async function lastRotations(db: Queryable | undefined): Promise<Map<string, Rotation>> {
  const out = new Map<string, Rotation>();
  if (!db) return out;
  const rows = await db.query<{ secret: string; requester: string; approvers: string | null; break_glass: string | null; finished_at: Date | string }>(
    `select distinct on (r.plan->'target'->>'secret') r.plan->'target'->>'secret' as secret, r.requester, r.break_glass, r.finished_at,
            (select string_agg(v.approver, ',' order by v.at) from approval_votes v where v.request_id = r.id) as approvers
       from approval_requests r
      where r.command = 'secrets rotate' and r.state = 'succeeded'
      order by r.plan->'target'->>'secret', r.finished_at desc`,
  );
  for (const r of rows) {
    out.set(r.secret, { secret: r.secret, requester: r.requester, approvers: r.approvers ? r.approvers.split(',') : [], breakGlass: r.break_glass !== null, finishedAt: new Date(r.finished_at) });
  }
  return out;
}

/** The file's mtime (seconds since the epoch) on its host, via the `stat` template. */
async function mtimeOf(targets: Targets, cfg: SecretConfig): Promise<number> {
  const r = await secretHost(targets, cfg).run('stat', [cfg.file]);
  const m = /^(\d+) (\d+)\s*$/.exec(r.stdout);
  if (r.code !== 0 || !m) throw new UserError(r.stderr.trim() || `exit ${r.code}`);
  return Number(m[2]);
}

const why = readerMessage;

export async function listReport(t: T, config: Config, targets: Targets, db: Queryable | undefined): Promise<Report> {
  const names = Object.keys(config.secrets);
  if (!names.length) return { title: t('secrets:list.title'), status: 'info', summary: t('secrets:errors.none_configured') };
  const timeoutMs = config.health.timeout + 1000;
  const [rotations, ...outcomes] = await Promise.all([
    lastRotations(db).catch(() => undefined),
    ...names.map((n) => source(n, config.secrets[n].host, timeoutMs, () => mtimeOf(targets, config.secrets[n]))),
  ]);
  const now = Date.now();
  const checks: CheckLine[] = names.map((name, i) => {
    const cfg = config.secrets[name];
    const o = outcomes[i];
    const where = t('secrets:list.where', { host: cfg.host, file: cfg.file });
    const services = cfg.services.length ? t('secrets:list.services', { services: cfg.services }) : t('secrets:list.no_services');
    const rot = rotations?.get(name);
    const last = !rotations
      ? t('secrets:list.history_unavailable')
      : !rot
        ? t('secrets:list.never_rotated')
        : t(rot.breakGlass ? 'secrets:list.rotated_break_glass' : rot.approvers.length ? 'secrets:list.rotated' : 'secrets:list.rotated_no_votes', {
          at: t.time(rot.finishedAt), by: userMention(rot.requester), approvers: rot.approvers.map(userMention),
        });
    let status: Status;
    let age: string;
    if (o.ok) {
      const ageMs = Math.max(0, now - o.facts * 1000);
      status = ageMs > cfg.max_age ? 'warn' : 'ok';
      age = t(status === 'warn' ? 'secrets:list.age_old' : 'secrets:list.age', { ms: ageMs, max: cfg.max_age, at: t.time(o.facts * 1000) });
    } else {
      status = 'crit';
      const err = o.error as unknown;
      age = err instanceof UnavailableError || !(err instanceof UserError)
        ? t('secrets:list.unreachable', { host: cfg.host, reason: why(t, err) })
        : t('secrets:list.unreadable', { host: cfg.host, reason: why(t, err) });
    }
    return { name, status, text: [where, age, last, services].join(' · ') };
  });
  const status = worst(checks.map((c) => c.status));
  const old = checks.filter((c) => c.status === 'warn').length;
  const failed = checks.filter((c) => c.status === 'crit').length;
  return {
    title: t('secrets:list.title'),
    status,
    summary: t('secrets:list.summary', { count: names.length, old, failed }),
    checks,
  };
}
