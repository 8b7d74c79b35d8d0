import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Targets } from '../targets/types.ts';
import { parseCommandLine } from './args.ts';
import type { ApprovalEngine } from '../approvals/engine.ts';
import { auditArgs, type AuditLog } from './audit.ts';
import { needsGrant, needsVotes, permissionKey, type AnyCommand, type CommandContext } from './define-command.ts';
import { InternalError, UserError, errorMessage, newRef } from './errors.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { RateLimiter, type Limiter } from './rate-limit.ts';
import type { Rbac } from './rbac.ts';
import type { Report } from './report.ts';
import { didYouMean } from './suggest.ts';
import type { WorkQueue } from './work-queue.ts';
import { channelMention, userMention } from './mention.ts';
import { msg, type Msg, type T } from '../i18n/index.ts';
import { Readers } from '../i18n/readers.ts';
import { formatUsage } from './usage.ts';

export interface Invocation {
  /** "/health" or "health". */
  command: string;
  text: string;
  user: string;
  channel: string;
  /** Slack's trigger_id: present when a person just typed it, so a form (modal) may be opened. */
  triggerId?: string;
}

export interface Reply {
  report: Report;
  /** Only the caller sees it (errors, help, refusals). */
  ephemeral: boolean;
  /**
   * Set on a read-only command's channel reply: identical requests (same channel, command and
   * normalized text) may share one posted message.
   */
  shareKey?: string;
  /** The reader's language, for what the transport adds around the report (a cut-off note, "asked by"). */
  t?: T;
  /** How the invocation ended, as audited (ok, warn, crit, denied, invalid, …): schedules keep it. */
  outcome?: string;
}

export type Send = (reply: Reply) => Promise<void>;

export interface DispatcherDeps {
  config: Config;
  commands: AnyCommand[];
  targets: Targets;
  audit: AuditLog;
  rbac: Rbac;
  log: Logger;
  metrics: Metrics;
  /** Needed by destructive commands; absent in setups that have none. */
  approvals?: ApprovalEngine;
  /** Bounds the work after the ack; when it is full the caller is told "busy" at once. */
  queue?: WorkQueue;
  /** Who reads which language; without it everyone reads config `locale`. */
  readers?: Readers;
  /** The per-user rate limit; the bot shares it across replicas (SharedRateLimiter). Default: this process's memory. */
  limiter?: Limiter;
}

/** Flags every destructive command takes; the dispatcher, not the command, acts on them. */
const DESTRUCTIVE_FLAGS = { dryRun: z.boolean().default(false), breakGlass: z.string().optional(), freezeException: z.string().optional() };

/** An open incident that freezes destructive changes outside its channel (src/incidents/freeze.ts). */
export interface Freeze {
  incidentId: number;
  title: string;
  severity: string;
  channel: string;
  commander?: string;
}

/** What every finished invocation reports to listeners (incidents put those in their channels on the timeline). */
export interface Outcome {
  command: string;
  text: string;
  user: string;
  channel: string;
  outcome: string;
  summary?: string;
}

/**
 * Slack caps a slash command's text at a few thousand characters; anything longer did not come
 * from Slack's composer. It is refused before any parsing so it costs nothing.
 */
export const MAX_COMMAND_TEXT = 4000;

type Verdict = { ok: true } | { ok: false; reason: Msg };

/** The one place where policy lives: parsing, roles, channels, rate limit, audit and errors. */
export class Dispatcher {
  private readonly byName: Map<string, AnyCommand>;
  private readonly limiter: Limiter;
  private readonly pending = new Set<Promise<void>>();
  private readonly listeners: Array<(o: Outcome) => Promise<void>> = [];
  /** The change freeze in force for a channel, if any; set by incidents. */
  freeze?: (channel: string) => Promise<Freeze | undefined>;
  readonly readers: Readers;

  constructor(private readonly deps: DispatcherDeps) {
    this.byName = new Map(deps.commands.map((c) => [c.name, c]));
    this.readers = deps.readers ?? new Readers(deps.config);
    this.limiter = deps.limiter ?? new RateLimiter(deps.config.rate_limit.requests_per_minute);
  }

  /** Calls `fn` after each invocation's reply and audit row; what it does is waited for by idle(). */
  onOutcome(fn: (o: Outcome) => Promise<void>): void {
    this.listeners.push(fn);
  }

  get commands(): AnyCommand[] {
    return [...this.byName.values()];
  }

  /** Whether `user` may run `cmd` in `channel`, and if not, a reason they can act on. */
  async authorize(cmd: AnyCommand, user: string, channel: string): Promise<Verdict> {
    const perm = this.permissionOf(cmd);
    const roles = await this.deps.rbac.rolesOf(user);
    if (perm?.channels.length && !perm.channels.includes(channel)) {
      return { ok: false, reason: msg('core:denied.channel', { command: `/${cmd.name}`, channels: perm.channels.map((c) => channelMention(c)).join(', ') }) };
    }
    if (roles.has('admin')) return { ok: true };
    // Read-only commands are open unless restricted; destructive ones need an explicit grant.
    const needed = perm?.roles.length ? perm.roles : needsGrant(cmd) ? ['admin'] : [];
    if (needed.length === 0 || needed.some((r) => roles.has(r))) return { ok: true };
    return { ok: false, reason: msg('core:denied.role', { command: `/${cmd.name}`, roles: needed, count: needed.length }) };
  }

  /**
   * The permission entry that governs `cmd`: its own, or for a read-only subcommand without one
   * the nearest parent's (`permissions.db` covers `/db sizes`). A grant to read is never taken as
   * a grant to act, so a subcommand that needs a grant uses its own entry only.
   */
  private permissionOf(cmd: AnyCommand): Config['permissions'][string] | undefined {
    const all = this.deps.config.permissions;
    const key = permissionKey(cmd);
    if (all[key] || needsGrant(cmd)) return all[key];
    for (let k = key; k.includes('.'); ) {
      k = k.slice(0, k.lastIndexOf('.'));
      if (all[k]) return all[k];
    }
    return undefined;
  }

  /** Handles one invocation to completion. Never throws: every failure becomes a reply. */
  handle(inv: Invocation, send: Send): Promise<void> {
    const shared = this.sharing(inv, send);
    const queue = this.deps.queue;
    // A full queue refuses at once: the backlog, and the memory it holds, stay bounded.
    const work = queue ? (queue.offer(() => this.dispatch(inv, shared)) ?? this.busy(inv, send)) : this.dispatch(inv, shared);
    this.pending.add(work);
    return work.finally(() => this.pending.delete(work));
  }

  /** A read-only command's channel reply may be shared by identical requests (channel + command + normalized text). */
  private sharing(inv: Invocation, send: Send): Send {
    const name = inv.command.replace(/^\//, '');
    const cmd = this.byName.get(name);
    if (!cmd || cmd.destructive) return send;
    const shareKey = `${name} ${inv.text.trim().replace(/\s+/g, ' ')}`;
    return (reply) => send(reply.ephemeral ? reply : { ...reply, shareKey });
  }

  /** The queue is full: the caller hears so now, and the refusal is audited like any outcome. */
  private async busy(inv: Invocation, send: Send): Promise<void> {
    const { log, metrics } = this.deps;
    const name = inv.command.replace(/^\//, '');
    metrics.commands.inc({ command: name, outcome: 'busy' });
    await Promise.all([
      this.deps.audit
        .record({ actor: inv.user, channel: inv.channel, command: name, args: auditArgs(inv.text), outcome: 'busy' })
        .catch((err: unknown) => log.error({ err: errorMessage(err), command: name }, 'audit write failed')),
      this.readers.forUser(inv.user, inv.channel).then((t) => send({ ephemeral: true, t, report: { title: `/${name}`, status: 'warn', summary: `⏳ ${t('core:busy')}` } }))
        .catch((err: unknown) => log.error({ err: errorMessage(err), command: name }, 'reply failed')),
    ]);
  }

  /**
   * An event from the system acting in a channel (an Alertmanager notification posting or
   * updating its card): audited and counted like a command, and waited for by idle(). It is not
   * queued behind commands nor rate-limited: an alert turned away is an alert nobody sees. What it
   * posts goes through the same renderers, so redaction applies as to any reply. Never throws.
   */
  event(ev: { actor: string; channel: string; command: string; args: string }, work: () => Promise<{ outcome: string; detail?: Record<string, unknown> }>): Promise<void> {
    const { log, metrics } = this.deps;
    const run = (async () => {
      const started = performance.now();
      let outcome = 'error';
      let ref: string | undefined;
      let detail: Record<string, unknown> = {};
      try {
        ({ outcome, detail = {} } = await work());
      } catch (err) {
        ref = newRef();
        log.error({ ref, command: ev.command, channel: ev.channel, err: errorMessage(err) }, 'system event failed');
      }
      const seconds = (performance.now() - started) / 1000;
      metrics.commands.inc({ command: ev.command, outcome });
      metrics.duration.observe({ command: ev.command }, seconds);
      await this.deps.audit
        .record({ actor: ev.actor, channel: ev.channel, command: ev.command, args: auditArgs(ev.args), outcome, ref, detail: { ...detail, ms: Math.round(seconds * 1000) } })
        .catch((err: unknown) => log.error({ err: errorMessage(err), command: ev.command }, 'audit write failed'));
    })();
    this.pending.add(run);
    return run.finally(() => this.pending.delete(run));
  }

  /** Resolves once all in-flight invocations are done (console exit, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async dispatch(inv: Invocation, send: Send): Promise<void> {
    const { log, metrics } = this.deps;
    const name = inv.command.replace(/^\//, '');
    const started = performance.now();
    let outcome = 'error';
    let ref: string | undefined;
    let reply: Reply;
    try {
      reply = await this.execute(name, inv);
      outcome = reply.report.status === 'info' ? 'ok' : reply.report.status;
    } catch (err) {
      ({ reply, outcome, ref } = this.failure(name, inv, err, await this.readers.forUser(inv.user, inv.channel)));
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.commands.inc({ command: name, outcome });
    metrics.duration.observe({ command: name }, seconds);
    await Promise.all([
      this.deps.audit
        .record({ actor: inv.user, channel: inv.channel, command: name, args: auditArgs(inv.text), outcome, ref, detail: { ms: Math.round(seconds * 1000) } })
        .catch((err: unknown) => log.error({ err: errorMessage(err), command: name }, 'audit write failed')),
      send({ ...reply, outcome }).catch((err: unknown) => log.error({ err: errorMessage(err), command: name }, 'reply failed')),
    ]);
    if (this.listeners.length) {
      const o: Outcome = { command: name, text: inv.text, user: inv.user, channel: inv.channel, outcome, summary: reply.report.summary };
      await Promise.all(this.listeners.map((fn) => fn(o).catch((err: unknown) => log.warn({ err: errorMessage(err), command: name }, 'outcome listener failed'))));
    }
  }

  private async execute(name: string, inv: Invocation): Promise<Reply> {
    const wait = this.deps.config.rate_limit.enabled ? await this.limiter.take(inv.user) : 0;
    if (wait > 0) {
      throw new RateLimited(msg('core:rate_limited', { limit: this.deps.config.rate_limit.requests_per_minute, seconds: Math.ceil(wait / 1000) }));
    }
    if (inv.text.length > MAX_COMMAND_TEXT) {
      throw new UserError(msg('core:too_long', { length: inv.text.length, max: MAX_COMMAND_TEXT }));
    }
    const top = this.byName.get(name);
    if (!top) {
      const guess = didYouMean(name, [...this.byName.keys()]);
      throw new UserError(msg('core:unknown_command', { command: `/${name}` }), { hint: guess && `/${guess}`, usage: [{ syntax: '/ops help', note: 'core:usage.ops_help' }] });
    }
    const { cmd, text } = route(top, inv.text);
    const verdict = await this.authorize(cmd, inv.user, inv.channel);
    if (!verdict.ok) throw new Denied(verdict.reason);
    // Ephemeral replies are read by the caller, channel replies by the channel.
    const t = cmd.visibility === 'ephemeral' || cmd.destructive || cmd.job ? await this.readers.forUser(inv.user, inv.channel) : this.readers.forChannel(inv.channel);
    const base = (typeof cmd.args === 'function' ? cmd.args(this.deps.config) : cmd.args) as z.ZodObject;
    const schema = cmd.destructive ? base.extend(DESTRUCTIVE_FLAGS) : base;
    const parsed = parseCommandLine(text, { schema, positionals: cmd.positionals ?? [], usage: cmd.usage, variadic: cmd.variadic, rest: cmd.rest, raw: cmd.raw }, ['dryRun', 'breakGlass']);
    const args = parsed.values as Record<string, unknown>;
    const log = this.deps.log;
    let childLog: Logger | undefined;
    const ctx: CommandContext<unknown> = {
      args,
      t,
      user: inv.user,
      channel: inv.channel,
      interactive: !!inv.triggerId,
      config: this.deps.config,
      targets: this.deps.targets,
      // Made on first use: most commands never log, and a child logger per command shows up
      // in the ack path's profile.
      get log() {
        return (childLog ??= log.child({ command: name, user: inv.user }));
      },
      allowedCommands: () => this.allowedFor(inv.user, inv.channel),
      mayRun: async (c) => (await this.authorize(c, inv.user, inv.channel)).ok,
      roles: () => this.deps.rbac.rolesOf(inv.user),
      actionableApprovals: async () => (this.deps.approvals ? this.deps.approvals.actionableFor(inv.user) : []),
      recentAudit: (opts) => this.deps.audit.recent(opts),
      auditWindow: (since) => this.deps.audit.window(since),
    };
    if (cmd.destructive) return this.destructive(cmd, ctx, inv, parsed.echo);
    if (cmd.job) return this.job(cmd, ctx, inv, parsed.echo);
    if (!cmd.run) throw new InternalError('command_without_run', `/${name} defines no run()`);
    const report = await cmd.run(ctx as CommandContext<never>);
    return { report, ephemeral: cmd.visibility === 'ephemeral', t };
  }

  /** Plan first, against the live system; then a dry-run report, or a request for approval. */
  private async destructive(cmd: AnyCommand, ctx: CommandContext<unknown>, inv: Invocation, argsText: string): Promise<Reply> {
    const { dryRun, breakGlass, freezeException, ...args } = ctx.args as { dryRun: boolean; breakGlass?: string; freezeException?: string };
    if (!cmd.plan || !cmd.execute) throw new InternalError('destructive_without_plan', `/${cmd.name} must define plan() and execute()`);
    // A change freeze is checked before planning: a refused command costs the live system nothing.
    // A dry run changes nothing and break-glass is its own audited way past every rule.
    // Arguments that need no vote (a plain VACUUM) change nothing risky: they are not frozen either.
    const votes = needsVotes(cmd, args);
    const freeze = votes && !dryRun && breakGlass === undefined ? await this.freeze?.(inv.channel) : undefined;
    if (freeze && freezeException === undefined) {
      throw new Denied(msg('incidents:freeze.refused', { command: `/${cmd.name}`, id: freeze.incidentId, title: freeze.title, severity: freeze.severity, channel: channelMention(freeze.channel), user: freeze.commander ? userMention(freeze.commander) : '-' }));
    }
    if (freeze && (freezeException ?? '').trim().length < 5) throw new UserError(msg('incidents:freeze.reason_needed'));
    const plan = await cmd.plan({ ...ctx, args } as CommandContext<never>);
    if (dryRun) {
      return {
        ephemeral: true,
        t: ctx.t,
        report: {
          title: `/${cmd.name} ${argsText}`.trim(),
          status: 'info',
          summary: ctx.t('core:dry_run.summary'),
          sections: [{ title: ctx.t('core:dry_run.plan'), lines: [ctx.t.text(plan.summary), ...plan.steps.map((s, i) => `${i + 1}. ${ctx.t.text(s)}`)] }],
          fields: [{ label: ctx.t('core:dry_run.risk'), value: `${ctx.t(`approvals:risk.${plan.risk}`)}${plan.riskNote ? `: ${ctx.t.text(plan.riskNote)}` : ''}` }],
        },
      };
    }
    if (!this.deps.approvals) throw new InternalError('approvals_unavailable', 'no approval engine configured');
    // These arguments need no vote: the plan runs at once, as a job (break-glass has nothing to skip).
    if (!votes) return { report: await this.deps.approvals.runJob(cmd, { user: inv.user, channel: inv.channel, argsText, plan }), ephemeral: true, t: ctx.t };
    const report = await this.deps.approvals.request(cmd, {
      user: inv.user, channel: inv.channel, argsText, plan, breakGlass,
      freeze: freeze && { incidentId: freeze.incidentId, commander: freeze.commander !== inv.user ? freeze.commander : undefined, reason: freezeException!.trim() },
    });
    return { report, ephemeral: true, t: ctx.t };
  }

  /** A job: plan against the live system, then run at once on the approval engine's rails (its card shows progress). */
  private async job(cmd: AnyCommand, ctx: CommandContext<unknown>, inv: Invocation, argsText: string): Promise<Reply> {
    if (!cmd.plan || !cmd.execute) throw new InternalError('job_without_plan', `/${cmd.name} must define plan() and execute()`);
    const plan = await cmd.plan(ctx as CommandContext<never>);
    if (!this.deps.approvals) throw new InternalError('approvals_unavailable', 'no approval engine configured');
    const report = await this.deps.approvals.runJob(cmd, { user: inv.user, channel: inv.channel, argsText, plan });
    return { report, ephemeral: true, t: await this.readers.forUser(inv.user, inv.channel) };
  }

  async allowedFor(user: string, channel: string): Promise<AnyCommand[]> {
    const verdicts = await Promise.all(this.commands.map(async (c) => [c, await this.authorize(c, user, channel)] as const));
    return verdicts.filter(([, v]) => v.ok).map(([c]) => c);
  }

  private failure(name: string, inv: Invocation, err: unknown, t: T): { reply: Reply; outcome: string; ref?: string } {
    const title = `/${name}`;
    if (err instanceof RateLimited) return { outcome: 'rate_limited', reply: { ephemeral: true, t, report: { title, status: 'warn', summary: t.text(err.text) } } };
    if (err instanceof Denied) return { outcome: 'denied', reply: { ephemeral: true, t, report: { title, status: 'crit', summary: `⛔ ${t.text(err.text)}` } } };
    if (err instanceof UserError) {
      const sections = err.usage?.length ? [{ title: t('core:usage.title'), lines: formatUsage(err.usage, t), code: true }] : undefined;
      const text = err.localized(t);
      const summary = err.hint ? `${text} ${t('core:did_you_mean', { hint: err.hint })}` : text;
      return { outcome: 'invalid', reply: { ephemeral: true, t, report: { title, status: 'crit', summary, sections } } };
    }
    const ref = newRef();
    this.deps.log.error({ ref, command: name, user: inv.user, err: err instanceof Error ? { message: err.message, stack: err.stack, code: (err as { code?: unknown }).code } : String(err) }, 'command failed');
    return { outcome: 'error', ref, reply: { ephemeral: true, t, report: { title, status: 'crit', summary: t('core:internal_error', { ref }) } } };
  }
}

/** Refusals that carry their text untranslated until the reader is known. */
class Refusal extends Error {
  constructor(readonly text: Msg) {
    super(text.key);
  }
}
class RateLimited extends Refusal {}
class Denied extends Refusal {}

/** `/backup list latest` → the `list` subcommand with "latest"; words that name no subcommand stay the parent's arguments. */
function route(cmd: AnyCommand, text: string): { cmd: AnyCommand; text: string } {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(text);
  const sub = m && cmd.subcommands && Object.hasOwn(cmd.subcommands, m[1]) ? cmd.subcommands[m[1]] : undefined;
  return sub ? route(sub, m![2]) : { cmd, text };
}
