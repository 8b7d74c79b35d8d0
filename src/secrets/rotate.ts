/**
 * /secrets rotate <name> (manual §5.2 密钥轮换, done so that it undoes itself): a new value, the
 * old one kept encrypted, the file replaced atomically, the dependents restarted one at a time and
 * each checked healthy. On any failure the old file is put back (one rename), the services
 * already restarted are restarted again and checked, and the card says what failed and where
 * things stand.
 *
 * The value itself is never posted, logged, audited or stored: it is made here (or read from the
 * generate command's stdout), goes to the host on stdin, and is added to the redaction pass in case
 * anything ever echoes it. The generate command's output is never shown, not even on failure.
 */
import { conflict } from '../upgrade/plan.ts';
import { randomBytes } from 'node:crypto';
import type { Plan } from '../approvals/plan.ts';
import type { CommandContext, ExecContext } from '../core/define-command.ts';
import { UserError, readerMessage } from '../core/errors.ts';
import { rememberSecret } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type Msg, type T } from '../i18n/index.ts';
import type { HostExecutor, RunResult } from '../targets/types.ts';
import { dependents, dockerOf, restartOne, type Restarted } from './restart.ts';
import { generateStep, keepDir, keptCopy, parseCheck, pickSecret, problemMsg, rollbackLink, secretHost, type FileFacts, type SecretConfig } from './secret.ts';

const CHECK_TIMEOUT = 30_000;
const STEP_TIMEOUT = 60_000;
/** Enough for any key or password; a generator printing more is misconfigured. */
const MAX_VALUE = 64 * 1024;

const lockOf = (name: string) => `secret:${name}`;

/** A host script's failure as one line: its stderr's last words (our own scripts' messages), or its exit code. */
const detail = (r: RunResult) => r.stderr.trim().split('\n').slice(-2).join(' / ') || `exit ${r.code}`;
const reason = readerMessage;

/** Runs the check script; problems become one UserError naming all of them. */
async function checkFile(t: T, host: HostExecutor, cfg: SecretConfig): Promise<FileFacts> {
  const r = await host.run('secretCheck', [cfg.file, cfg.passphrase_file, keepDir(cfg), rollbackLink(cfg)], { timeoutMs: CHECK_TIMEOUT });
  if (r.code !== 0) throw new UserError(msg('secrets:errors.check_failed', { where: host.where, detail: detail(r) }));
  const { problems, facts } = parseCheck(r.stdout);
  if (problems.length || !facts) {
    const found = problems.length ? problems.map((p) => problemMsg(p, cfg, host.where)) : [msg('secrets:check.missing', { file: cfg.file, where: host.where })];
    throw new UserError(found.length === 1 ? found[0] : msg('secrets:errors.several', { problems: found.map((m) => t.text(m)).join(' ') }));
  }
  return facts;
}

export async function rotatePlan(ctx: CommandContext<{ name: string }>, usage: readonly UsageLine[]): Promise<Plan> {
  const name = ctx.args.name;
  const cfg = pickSecret(ctx.config, name, usage, (n) => `/secrets rotate ${n}`);
  const host = secretHost(ctx.targets, cfg);
  const deps = dependents(ctx.config, cfg.services);
  const facts = await checkFile(ctx.t, host, cfg);
  const containers = await Promise.all(deps.map(async (d) => {
    const c = await dockerOf(ctx.targets, d).inspect(d.container);
    if (!c) throw new UserError(msg('restart:errors.no_container', { container: d.container, service: d.service, docker: d.docker }));
    return c;
  }));
  const link = rollbackLink(cfg);
  return {
    summary: msg('secrets:plan.summary', { name, host: cfg.host, file: cfg.file, count: deps.length }),
    steps: [
      generateStep(cfg),
      msg('secrets:plan.keep', { copy: keptCopy(cfg), passphrase: cfg.passphrase_file }),
      msg('secrets:plan.write', { file: cfg.file, mode: facts.mode, owner: `${facts.uid}:${facts.gid}`, link }),
      ...(deps.length
        ? deps.map((d, i) => msg(containers[i].health ? 'secrets:plan.restart_healthy' : 'secrets:plan.restart_running', {
          service: d.service, container: d.container, ms: ctx.config.services[d.service].ready_timeout,
        }))
        : [msg('secrets:plan.no_services')]),
      msg('secrets:plan.on_failure', { link }),
      msg('secrets:plan.release', { link }),
    ],
    risk: 'high',
    riskNote: deps.length ? msg('secrets:plan.risk_note', { services: cfg.services }) : msg('secrets:plan.risk_note_none'),
    target: {
      lock: lockOf(name), secret: name, host: cfg.host, file: cfg.file, mtime: facts.mtime, size: facts.size,
      containers: containers.map((c) => c.id).join(','),
    },
  };
}

/** The secret, its file and its dependents must be the very ones approved. */
export async function rotatePrecheck(ctx: ExecContext, plan: Plan): Promise<string | Msg | undefined> {
  const name = String(plan.target.secret);
  const cfg = ctx.config.secrets[name];
  if (!cfg || cfg.file !== plan.target.file || cfg.host !== plan.target.host) return msg('secrets:precheck.config_changed', { name });
  try {
    // Asked first: while an upgrade or rollback switches a dependent, its container is a new one,
    // and "container changed" would hide the reason.
    const busy = await conflict(ctx.config, cfg.services, ctx.requestId, ['upgrade', 'rollback']);
    if (busy) return busy;
    const facts = await checkFile(ctx.t, secretHost(ctx.targets, cfg), cfg);
    if (facts.mtime !== plan.target.mtime || facts.size !== plan.target.size) return msg('secrets:precheck.file_changed', { file: cfg.file });
    const deps = dependents(ctx.config, cfg.services);
    const ids = String(plan.target.containers).split(',').filter(Boolean);
    for (const [i, d] of deps.entries()) {
      const now = await dockerOf(ctx.targets, d).inspect(d.container);
      if (!now || now.id !== ids[i]) return msg('secrets:precheck.container_changed', { container: d.container, service: d.service });
    }
    return undefined;
  } catch (err) {
    if (err instanceof UserError) return err.text;
    throw err;
  }
}

/** A new value: random bytes made here, or the generate command's stdout (one trailing newline off). */
async function generate(host: HostExecutor, cfg: SecretConfig, signal: AbortSignal): Promise<string> {
  const g = cfg.generate;
  if ('random_bytes' in g) return randomBytes(g.random_bytes).toString(g.encoding);
  const r = await host.run('secretGenerate', [g.command], { timeoutMs: g.timeout, maxBytes: MAX_VALUE, signal });
  // Whatever it printed may be a value: masked from here on, and never shown, whatever happened.
  if (r.stdout.trim()) rememberSecret(r.stdout);
  if (r.code !== 0) throw new UserError(msg('secrets:errors.generate_exit', { command: g.command[0], code: r.code ?? 'signal' }));
  if (r.truncated) throw new UserError(msg('secrets:errors.generate_long', { command: g.command[0], max: MAX_VALUE }));
  const value = r.stdout.replace(/\r?\n$/, '');
  if (!value.trim()) throw new UserError(msg('secrets:errors.generate_empty', { command: g.command[0] }));
  return value;
}

function restartLine(t: T, r: Restarted, again: boolean): string {
  const seconds = t.number(r.ms / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const key = again ? 'again' : 'first';
  if (r.ready) return t(`secrets:restart.${key}_ok`, { service: r.service, container: r.container, seconds, health: r.info?.health ?? t('restart:result.no_healthcheck') });
  const state = r.error !== undefined ? reason(t, r.error) : `${r.info?.state ?? '?'}${r.info?.health ? `, ${r.info.health}` : ''}`;
  return t(`secrets:restart.${key}_bad`, { service: r.service, container: r.container, seconds, state });
}

export async function executeRotate(ctx: ExecContext, plan: Plan): Promise<Report> {
  const { t } = ctx;
  const name = String(plan.target.secret);
  const cfg = ctx.config.secrets[name];
  const host = secretHost(ctx.targets, cfg);
  const deps = dependents(ctx.config, cfg.services);
  const link = rollbackLink(cfg);
  const copy = keptCopy(cfg, new Date());
  const lines: string[] = [];
  const report = (status: 'ok' | 'crit', summary: string): Report => ({
    // i18n-exempt: the command line, the same in every language
    title: `/secrets rotate ${name}`,
    status,
    summary,
    sections: [{ title: t('secrets:result.steps'), lines }],
  });
  /** Nothing was replaced: the file still holds the old value. */
  const unchanged = (failure: string) => report('crit', t('secrets:result.failed_unchanged', { name, failure, file: cfg.file }));

  await ctx.progress(t('secrets:progress.generate'));
  let value: string;
  try {
    value = await generate(host, cfg, ctx.signal);
  } catch (err) {
    return unchanged(t('secrets:fail.generate', { detail: reason(t, err) }));
  }
  rememberSecret(value);
  lines.push(t('secrets:done.generated'));

  await ctx.progress(t('secrets:progress.keep', { copy }));
  const kept = await host.run('secretKeep', [cfg.file, copy, cfg.passphrase_file], { timeoutMs: STEP_TIMEOUT }).catch((err: unknown) => err);
  if (!isResult(kept) || kept.code !== 0) return unchanged(t('secrets:fail.keep', { detail: isResult(kept) ? detail(kept) : reason(t, kept) }));
  lines.push(t('secrets:done.kept', { copy, host: cfg.host, passphrase: cfg.passphrase_file }));

  await ctx.progress(t('secrets:progress.write', { file: cfg.file }));
  const bytes = Buffer.byteLength(value);
  const written = await host.run('secretWrite', [cfg.file, bytes, link], { stdin: value, timeoutMs: STEP_TIMEOUT }).catch((err: unknown) => err);
  let failure: string | undefined;
  if (isResult(written)) {
    if (written.code === 4) return unchanged(t('secrets:fail.same_value'));
    if (written.code !== 0) return unchanged(t('secrets:fail.write', { detail: detail(written) }));
    lines.push(t('secrets:done.written', { file: cfg.file, bytes }));
  } else {
    // The connection failed mid-write: whether the rename happened is unknown, so put the old file back.
    failure = t('secrets:fail.write', { detail: reason(t, written) });
  }

  const restarted: Restarted[] = [];
  if (!failure) {
    try {
      for (const [i, d] of deps.entries()) {
        await ctx.progress(t('secrets:progress.restart', { service: d.service, n: i + 1, total: deps.length }));
        const r = await restartOne(ctx.config, ctx.targets, d);
        restarted.push(r);
        lines.push(restartLine(t, r, false));
        if (!r.ready) {
          failure = t('secrets:fail.unhealthy', { service: d.service });
          break;
        }
      }
    } catch (err) {
      // The lease was lost (or the card could not be updated): the new value must not stay half rolled out.
      failure = reason(t, err);
    }
  }

  if (!failure) {
    const released = await host.run('secretRelease', [link], { timeoutMs: CHECK_TIMEOUT }).catch((err: unknown) => err);
    if (!isResult(released) || released.code !== 0) lines.push(t('secrets:done.link_left', { link }));
    return report('ok', t('secrets:result.done', { name, file: cfg.file, host: cfg.host, count: restarted.length, copy }));
  }

  // Roll back: the status line only (never throws), since the lease may be what failed.
  ctx.status(t('secrets:progress.rollback', { file: cfg.file }));
  const back = await host.run('secretRestore', [cfg.file, link], { timeoutMs: STEP_TIMEOUT }).catch((err: unknown) => err);
  // No rollback link: the write stopped before its rename, so the file still holds the old value.
  if (isResult(back) && back.code === 5 && restarted.length === 0) return unchanged(failure);
  if (!isResult(back) || back.code !== 0) {
    const why = isResult(back) ? detail(back) : reason(t, back);
    lines.push(t('secrets:done.restore_failed', { detail: why }));
    return report('crit', t('secrets:result.rollback_failed', { name, failure, file: cfg.file, link, copy }));
  }
  lines.push(t('secrets:done.restored', { file: cfg.file }));
  const again: Restarted[] = [];
  for (const r of restarted) {
    ctx.status(t('secrets:progress.restart_again', { service: r.service }));
    const a = await restartOne(ctx.config, ctx.targets, deps.find((d) => d.service === r.service)!);
    again.push(a);
    lines.push(restartLine(t, a, true));
  }
  const bad = again.filter((a) => !a.ready).map((a) => a.service);
  const state = !again.length
    ? t('secrets:state.back_none', { file: cfg.file })
    : bad.length
      ? t('secrets:state.back_unhealthy', { file: cfg.file, services: bad })
      : t('secrets:state.back_healthy', { file: cfg.file, services: again.map((a) => a.service) });
  return report('crit', t('secrets:result.rolled_back', { name, failure, state, copy }));
}

const isResult = (v: unknown): v is RunResult => !!v && typeof v === 'object' && 'stdout' in v && 'code' in v;

/** After an interruption: whether the rollback link is still there, i.e. the rotation stopped midway. */
export async function rotateWhereNow(ctx: Pick<ExecContext, 't' | 'config' | 'targets'>, plan: Plan): Promise<{ summary: string; lines: string[] }> {
  const { t } = ctx;
  const cfg = ctx.config.secrets[String(plan.target.secret)];
  if (!cfg) return { summary: t('secrets:where.unknown'), lines: [] };
  const link = rollbackLink(cfg);
  try {
    const r = await secretHost(ctx.targets, cfg).run('secretCheck', [cfg.file, cfg.passphrase_file, keepDir(cfg), link], { timeoutMs: CHECK_TIMEOUT });
    const { problems } = parseCheck(r.stdout);
    if (problems.includes('leftover')) return { summary: t('secrets:where.midway', { file: cfg.file, link }), lines: [t('secrets:where.midway_next', { link, services: cfg.services })] };
    return { summary: t('secrets:where.clean', { file: cfg.file }), lines: [] };
  } catch (err) {
    return { summary: t('secrets:where.unknown'), lines: [reason(t, err)] };
  }
}
