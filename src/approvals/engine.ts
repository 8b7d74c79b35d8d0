import { randomBytes } from 'node:crypto';
import { Lease, LeaseLostError, lostLeaseResult } from './lease.ts';
import type { Config } from '../config/schema.ts';
import type { Targets } from '../targets/types.ts';
import { approvalCard } from './card.ts';
import { ApprovalStore, type ApprovalRequest } from './store.ts';
import { allCommands, ruleKey, type AnyCommand, type ExecContext } from '../core/define-command.ts';
import { InternalError, UserError, errorMessage, readerMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { hashPlan, type Plan } from './plan.ts';
import type { Rbac } from '../core/rbac.ts';
import { redactDeep, redactText } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import { channelMention, userMention } from '../core/mention.ts';
import { msg, type T } from '../i18n/index.ts';
import { Readers } from '../i18n/readers.ts';
import { settledWithin } from '../core/lifecycle.ts';
import { shutdownResult } from './shutdown.ts';

/** A run in progress, as drain() needs it: its lease, the steps started, the card's language. */
interface LiveRun {
  lease: Lease;
  steps: string[];
  t: T;
  /** Given up by drain(), which recorded the outcome and updated the card. */
  abandoned: boolean;
}

/** Where cards live. The Slack implementation coalesces updates to one a second per card. */
export interface CardSink {
  post(channel: string, report: Report): Promise<{ channel: string; ts: string }>;
  /** `final`: the last state of the card, sent without waiting for the next update slot. */
  update(channel: string, ts: string, report: Report, opts?: { final?: boolean }): Promise<void>;
}

/** A request's life as other features see it (incidents put those typed in their channel on the timeline). */
export type ApprovalEvent = 'requested' | 'started' | 'finished';
export type ApprovalListener = (event: ApprovalEvent, req: ApprovalRequest) => Promise<void> | void;

/** A destructive command asked during a change freeze, outside the incident's channel. */
export interface FreezeException {
  incidentId: number;
  /** Must approve too (unset when the commander asked themselves). */
  commander?: string;
  reason: string;
}

export interface ApprovalDeps {
  store: ApprovalStore;
  config: Config;
  rbac: Rbac;
  cards: CardSink;
  commands: AnyCommand[];
  targets: Targets;
  log: Logger;
  /** Whose language each text is in: cards follow their channel, click replies the clicker. */
  readers?: Readers;
}

/**
 * The approval flow for destructive commands: request → votes → exactly one execution of the
 * approved plan, with the card kept up to date. State lives in the store, so replicas and
 * restarts see the same requests.
 */
export class ApprovalEngine {
  /** Identifies this process as the runner of what it executes (for leases). */
  readonly runnerId = `${process.pid}-${randomBytes(8).toString('hex')}`;
  private readonly running = new Set<Promise<void>>();
  private readonly live = new Map<string, LiveRun>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly commands: Map<string, AnyCommand>;
  private readonly listeners: ApprovalListener[] = [];
  readonly readers: Readers;

  constructor(private readonly deps: ApprovalDeps) {
    this.commands = new Map(allCommands(deps.commands).map((c) => [c.name, c]));
    this.readers = deps.readers ?? new Readers(deps.config);
  }

  /** Calls `fn` when a request is made, starts running and finishes. Listeners never hold the flow up. */
  onEvent(fn: ApprovalListener): void {
    this.listeners.push(fn);
  }

  private emit(event: ApprovalEvent, req: ApprovalRequest): void {
    for (const fn of this.listeners) {
      void Promise.resolve().then(() => fn(event, req)).catch((err: unknown) => this.deps.log.warn({ id: req.id, event, err: errorMessage(err) }, 'approval listener failed'));
    }
  }

  private get settings() {
    return this.deps.config.approvals;
  }

  /**
   * The rule for a key ("restore", "backup.prune"): config's, else the command's own default for
   * it, else any approver or admin, once.
   */
  rule(key: string, fallback?: { approvers: string[]; count: number }): { name: string; approvers: string[]; count: number; schedules: string[] } {
    const rule = this.settings.rules[key];
    if (rule) return { name: key, ...rule };
    if (fallback) return { name: key, ...fallback, schedules: [] };
    return { name: 'default', approvers: ['approver', 'admin'], count: 1, schedules: [] };
  }

  /**
   * A job (cmd.job): no votes, but the same rails as an approved action: one card in the channel
   * with its progress (and a Stop button when cancellable), a lease, and an honest card when the
   * process dies. Returns the caller's (private) confirmation.
   */
  async runJob(cmd: AnyCommand, p: { user: string; channel: string; argsText: string; plan: Plan }): Promise<Report> {
    const req = await this.deps.store.create({
      command: cmd.name, args_text: p.argsText, plan: p.plan, plan_hash: hashPlan(p.plan), requester: p.user, channel: p.channel,
      rule: 'none', approver_roles: [], approvals_needed: 0, ttlMs: this.settings.ttl,
    });
    const card = await this.deps.cards.post(p.channel, approvalCard(req, this.readers.forChannel(p.channel), undefined, { cancellable: cmd.cancellable }));
    await this.deps.store.setCard(req.id, card.channel, card.ts);
    this.emit('requested', req);
    const approved = await this.deps.store.approveJob(req.id, p.user, this.settings.lease);
    if (approved) this.track(this.execute(approved));
    const t = await this.readers.forUser(p.user, p.channel);
    return { title: `/${cmd.name}`, status: 'info', summary: t('approvals:job.started', { id: req.id, channel: channelMention(card.channel) }) };
  }

  /** Stop pressed on a running card. Returns what the clicker should be told (privately). */
  async stopRun(id: string, user: string): Promise<string> {
    const [req, t] = await Promise.all([this.deps.store.get(id), this.readers.forUser(user)]);
    if (!req) return t('approvals:reply.missing', { id });
    if (req.state !== 'running') return closed(t, id, req.state);
    if (!this.commands.get(req.command)?.cancellable) return t('approvals:stop.not_cancellable', { command: req.command });
    const roles = await this.deps.rbac.rolesOf(user);
    if (req.requester !== user && !roles.has('admin') && !req.approver_roles.some((r) => roles.has(r))) {
      return t('approvals:stop.not_allowed', { id });
    }
    const stopped = await this.deps.store.requestStop(id, user);
    if (!stopped) return closed(t, id, (await this.deps.store.get(id))?.state ?? req.state);
    // On this replica it stops at once; on another, at its next heartbeat.
    this.live.get(id)?.lease.stop_(user);
    void this.refresh(stopped, t('approvals:stop.stopping', { user: userMention(user) }));
    return t('approvals:stop.requested', { id });
  }

  /** Posts the approval card for a plan; returns the requester's (private) confirmation. */
  async request(cmd: AnyCommand, p: { user: string; channel: string; argsText: string; plan: Plan; breakGlass?: string; freeze?: FreezeException }): Promise<Report> {
    if (p.breakGlass !== undefined) await this.checkBreakGlass(cmd, p.user, p.breakGlass);
    const key = p.plan.rule ?? ruleKey(cmd);
    // A key config cannot name would leave the riskier variant with no way to tighten it.
    if (p.plan.rule && !cmd.defaultRules?.[p.plan.rule]) throw new InternalError('undeclared_rule', `/${cmd.name} planned rule ${p.plan.rule} without declaring it`);
    const rule = this.rule(key, cmd.defaultRules?.[key]);
    const commander = p.freeze?.commander;
    let req = await this.deps.store.create({
      command: cmd.name, args_text: p.argsText, plan: p.plan, plan_hash: hashPlan(p.plan), requester: p.user, channel: p.channel,
      // During a freeze the commander's vote comes on top of what the rule asks.
      rule: rule.name, approver_roles: rule.approvers, approvals_needed: rule.count + (commander ? 1 : 0), ttlMs: this.settings.ttl, breakGlass: p.breakGlass,
      requiredApprover: commander, incidentId: p.freeze?.incidentId,
    });
    this.emit('requested', req);
    const cardChannel = this.deps.config.channels.approvals?.id ?? p.channel;
    const card = await this.deps.cards.post(cardChannel, approvalCard(req, this.readers.forChannel(cardChannel)));
    await this.deps.store.setCard(req.id, card.channel, card.ts);
    req = { ...req, card_channel: card.channel, card_ts: card.ts };
    // The card is the channel's; this reply is the requester's alone, in their language.
    const t = await this.readers.forUser(p.user);
    if (p.breakGlass !== undefined) {
      const approved = await this.deps.store.approveBreakGlass(req.id, p.user, this.settings.lease);
      if (approved) this.track(this.execute(approved));
      return { title: `/${cmd.name}`, status: 'warn', summary: t('approvals:break_glass.running', { id: req.id, channel: channelMention(card.channel) }) };
    }
    // A schedule the rule names runs without votes (e.g. nightly pruning); the card and audit say so.
    if (rule.schedules.includes(p.user)) {
      const approved = await this.deps.store.approveByRule(req.id, p.user, this.settings.lease);
      if (approved) this.track(this.execute(approved));
      return { title: `/${cmd.name}`, status: 'info', summary: t('approvals:by_rule.running', { id: req.id, rule: rule.name, channel: channelMention(card.channel) }) };
    }
    const at = new Date(req.expires_at);
    const summary = card.channel === p.channel
      ? t('approvals:requested.below', { id: req.id, at })
      : t('approvals:requested.elsewhere', { id: req.id, channel: channelMention(card.channel), at });
    return { title: `/${cmd.name}`, status: 'info', summary };
  }

  private async checkBreakGlass(cmd: AnyCommand, user: string, reason: string): Promise<void> {
    const bg = this.settings.break_glass;
    if (!bg.enabled) throw new UserError(msg('approvals:break_glass.disabled'));
    if (reason.trim().length < 5) throw new UserError(msg('approvals:break_glass.reason_needed'));
    const roles = await this.deps.rbac.rolesOf(user);
    if (bg.roles.length && !bg.roles.some((r) => roles.has(r))) throw new UserError(msg('approvals:break_glass.role', { command: cmd.name, roles: bg.roles }));
  }

  /** An Approve click. Returns what the clicker should be told (privately). */
  async approve(id: string, user: string): Promise<string> {
    const [req, t] = await Promise.all([this.deps.store.get(id), this.readers.forUser(user)]);
    if (!req) return t('approvals:reply.missing', { id });
    if (req.state !== 'pending') return closed(t, id, req.state);
    if (req.requester === user) return t('approvals:reply.own', { roles: req.approver_roles });
    const roles = await this.deps.rbac.rolesOf(user);
    if (!req.approver_roles.some((r) => roles.has(r)) && req.required_approver !== user) return t('approvals:reply.approve_role', { command: req.command, roles: req.approver_roles });
    // Everything above was a quick refusal on a plain read; the vote itself re-checks state,
    // expiry (by the database's clock) and the requester under a row lock.
    const vote = await this.deps.store.vote(id, user, this.settings.lease);
    if (vote.outcome === 'missing') return t('approvals:reply.missing', { id });
    const request = vote.request;
    const left = request.approvals_needed - request.approvers.length;
    const line = `/${request.command} ${request.args_text}`.trim();
    switch (vote.outcome) {
      case 'expired':
        await this.sweep();
        return t('approvals:reply.expired', { id, line });
      case 'closed':
        return closed(t, id, request.state);
      case 'own':
        return t('approvals:reply.own', { roles: request.approver_roles });
      case 'approved':
        // The run starts first; card updates never hold an action (Slack may be rate limiting).
        this.track(this.execute(request));
        void this.refresh(request);
        return t('approvals:reply.approved', { line });
      case 'counted':
        void this.refresh(request);
        // Enough votes, but the change freeze also needs the incident commander's.
        if (left <= 1 && request.required_approver && !request.approvers.includes(request.required_approver)) return t('approvals:reply.counted_commander', { user: userMention(request.required_approver) });
        return t('approvals:reply.counted', { n: left });
      case 'repeat':
        return t('approvals:reply.repeat', { n: left });
    }
  }

  /**
   * Whether `user` may deny `id` at all. Asked at the click, before the reason is asked for, so
   * nobody writes a reason only to be refused. Undefined when they may.
   */
  async denyRefusal(id: string, user: string): Promise<string | undefined> {
    const [req, t] = await Promise.all([this.deps.store.get(id), this.readers.forUser(user)]);
    if (!req) return t('approvals:reply.missing', { id });
    if (req.state !== 'pending') return closed(t, id, req.state);
    const roles = await this.deps.rbac.rolesOf(user);
    if (!req.approver_roles.some((r) => roles.has(r)) && req.required_approver !== user) return t('approvals:reply.deny_role', { command: req.command, roles: req.approver_roles });
    return undefined;
  }

  async deny(id: string, user: string, reason: string): Promise<string> {
    const refusal = await this.denyRefusal(id, user);
    if (refusal) return refusal;
    const t = await this.readers.forUser(user);
    const req = await this.deps.store.get(id);
    // The reason is shown on the card, so a missing one is said in the card's language.
    const denied = await this.deps.store.deny(id, user, reason.trim() || this.cardT(req)('approvals:reply.no_reason'));
    if (!denied) {
      const now = await this.deps.store.get(id);
      return closed(t, id, now?.state === 'pending' ? 'expired' : now?.state ?? 'gone');
    }
    void this.refresh(denied);
    return t('approvals:reply.denied', { id });
  }

  async cancel(id: string, user: string): Promise<string> {
    const [req, t] = await Promise.all([this.deps.store.get(id), this.readers.forUser(user)]);
    if (!req) return t('approvals:reply.missing', { id });
    if (req.requester !== user) return t('approvals:reply.cancel_not_requester', { requester: userMention(req.requester), id });
    const cancelled = await this.deps.store.cancel(id, user);
    if (!cancelled) return closed(t, id, req.state);
    void this.refresh(cancelled);
    return t('approvals:reply.cancelled', { id });
  }

  /** Pending requests this user may act on: approve (holds a role, not the requester) or cancel (own). */
  async actionableFor(user: string): Promise<ApprovalRequest[]> {
    const [open, roles] = await Promise.all([this.deps.store.open(), this.deps.rbac.rolesOf(user)]);
    return open.filter((r) => r.requester === user || r.required_approver === user || r.approver_roles.some((role) => roles.has(role)));
  }

  /** Runs an approved request. Never throws: it runs after an ack, where nothing may crash the bot. */
  private async execute(approved: ApprovalRequest): Promise<void> {
    try {
      await this.run(approved);
    } catch (err) {
      this.deps.log.error({ id: approved.id, err: errorMessage(err) }, 'approved request could not be completed');
    }
  }

  /** Claims the request, re-verifies the plan, runs it while holding the lease, and records the outcome. */
  private async run(approved: ApprovalRequest): Promise<void> {
    const { store, log } = this.deps;
    const started = await store.start(approved.id, this.runnerId, this.settings.lease).catch((err: unknown) => {
      log.error({ id: approved.id, err: errorMessage(err) }, 'could not start approved request');
      return undefined;
    });
    if (!started) return; // someone else claimed it, or it was interrupted
    if ('busy' in started) {
      // Another run holds the same target (one backup, verify or restore per target at a time).
      const t = this.cardT(approved);
      const holder = started.busy;
      const summary = holder.id === approved.id
        ? t('approvals:busy.unknown')
        : t('approvals:busy.held', { id: holder.id, command: `/${holder.command} ${holder.args_text}`.trim(), user: userMention(holder.requester) });
      const refused = await store.refuse(approved.id, { status: 'crit', summary });
      if (refused) await this.refresh(refused);
      return;
    }
    const req = started;
    const lease = new Lease(store, req.id, this.runnerId, this.settings.lease, log);
    // Progress and results are shown on the card, so they are written in its channel's language.
    const t = this.cardT(req);
    const steps: string[] = [];
    const live: LiveRun = { lease, steps, t, abandoned: false };
    this.live.set(req.id, live);
    let outcome: 'succeeded' | 'failed' | 'cancelled' = 'failed';
    let result: ApprovalRequest['result'];
    try {
      void this.refresh(req);
      this.emit('started', req);
      const cmd = this.commands.get(req.command);
      // The card while running; once Stop was pressed it no longer offers Stop.
      const running = (): ApprovalRequest => ({ ...req, state: 'running', stop_requested_by: lease.stopRequested ? (lease.stoppedBy ?? req.requester) : null });
      const ctx: ExecContext = {
        requestId: req.id, requester: req.requester, t, config: this.deps.config, targets: this.deps.targets, log: log.child({ request: req.id }),
        status: (text) => {
          if (!lease.lost) void this.refresh(running(), steps.length ? `${steps[steps.length - 1]} ${text}` : text);
        },
        signal: lease.either,
        stopped: () => (lease.stopRequested ? (lease.stoppedBy ?? '?') : undefined),
        // A step boundary: the runner stops here once its lease is gone. The card update is best
        // effort and never waited for, so a rate-limited Slack cannot hold the action up.
        progress: async (text) => {
          lease.check(text);
          steps.push(text);
          void this.refresh(running(), text);
        },
      };
      if (!cmd?.execute) result = { summary: t('approvals:result.unknown_command', { command: req.command }) };
      else if (hashPlan(req.plan) !== req.plan_hash) result = { summary: t('approvals:result.hash_mismatch') };
      else {
        const why = await cmd.precheck?.(ctx, req.plan);
        if (why) result = { summary: t('approvals:result.precondition', { why: t.text(why) }) };
        else {
          lease.check(t('approvals:lease.first_step'));
          const report = await cmd.execute(ctx, req.plan);
          // A run that reached its end reports what it did, even when Stop came too late to matter.
          outcome = report.status === 'crit' ? 'failed' : 'succeeded';
          // Stored as it is posted: through the redaction pass (a secret a run made is masked there too).
          result = redactDeep({ summary: report.summary, status: report.status, lines: (report.sections ?? []).flatMap((s) => s.lines) });
        }
      }
    } catch (err) {
      if (lease.stopRequested && !lease.lost) outcome = 'cancelled';
      else if (!(err instanceof LeaseLostError)) log.error({ id: req.id, err: errorMessage(err) }, 'approved action failed');
      result = { summary: redactText(readerMessage(t, err)) };
    } finally {
      lease.stop();
      this.live.delete(req.id);
    }
    if (live.abandoned) return;
    if (outcome === 'cancelled') {
      const by = lease.stoppedBy ?? (await store.get(req.id).catch(() => undefined))?.stop_requested_by;
      result = { status: 'warn', summary: t('approvals:stop.done', { user: by ? userMention(by) : t('approvals:card.someone'), detail: result?.summary ?? '' }), lines: result?.lines };
    }
    if (lease.lost) {
      const done = await store.recordAfterLostLease(req.id, this.runnerId, lostLeaseResult(steps, result, lease.lostBefore, t));
      await this.refresh(done ?? (await store.get(req.id)) ?? req);
      return;
    }
    const done = await store.finish(req.id, this.runnerId, outcome, result);
    if (!done) {
      // Marked interrupted between the last renewal and now: say what did happen.
      const after = await store.recordAfterLostLease(req.id, this.runnerId, lostLeaseResult(steps, result, undefined, t));
      await this.refresh(after ?? (await store.get(req.id)) ?? req);
      return;
    }
    this.emit('finished', done);
    await this.refresh(done);
  }

  /** Closes expired requests and marks abandoned executions interrupted; updates their cards. */
  async sweep(): Promise<void> {
    const interrupted = await this.deps.store.interruptStale();
    const changed = [...(await this.deps.store.expireDue()), ...(await Promise.all(interrupted.map((r) => this.explain(r))))];
    await Promise.all(changed.map((r) => this.refresh(r)));
  }

  /**
   * An interrupted run of a command that can tell where things stand (a restore: which database
   * holds the data now, and what to run next) gets that on its card. Best effort: a target that
   * cannot be reached leaves the card as it was.
   */
  private async explain(req: ApprovalRequest): Promise<ApprovalRequest> {
    const cmd = this.commands.get(req.command);
    if (!cmd?.whereNow) return req;
    try {
      const t = this.cardT(req);
      const where = await cmd.whereNow({ requestId: req.id, requester: req.requester, t, config: this.deps.config, targets: this.deps.targets, log: this.deps.log }, req.plan);
      const earlier = req.result?.lines ?? [];
      return (await this.deps.store.amendResult(req.id, { status: 'crit', summary: where.summary, lines: [...where.lines, ...earlier] })) ?? req;
    } catch (err) {
      this.deps.log.warn({ id: req.id, err: errorMessage(err) }, 'could not tell where an interrupted run left things');
      return req;
    }
  }

  /** Starts the periodic sweep (and runs one now, which reports what a previous process left). */
  async start(): Promise<void> {
    await this.sweep().catch((err: unknown) => this.deps.log.error({ err: errorMessage(err) }, 'approval sweep failed'));
    this.timer = setInterval(() => {
      if (this.sweeping) return; // a slow store: never stack sweeps
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.deps.log.error({ err: errorMessage(err) }, 'approval sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, this.settings.sweep_interval);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await this.idle();
  }

  /**
   * Shutdown: stops sweeping and lets running actions finish within `graceMs`. Any still running
   * then is given up the way a lost lease gives it up: its signal is aborted and no further step
   * starts; it is marked interrupted with the steps that had started, and its card says so.
   * Nothing is left showing "running" for a process that is gone.
   */
  async drain(graceMs: number): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    if (await settledWithin(this.idle(), graceMs)) return;
    await Promise.all([...this.live].map(([id, run]) => this.abandon(id, run, graceMs)));
  }

  private async abandon(id: string, run: LiveRun, graceMs: number): Promise<void> {
    run.abandoned = true;
    // i18n-exempt: logged and the abort reason, never shown to a reader
    run.lease.release('this process is shutting down and its grace has run out');
    const done = await this.deps.store.interruptRunner(id, this.runnerId, shutdownResult(run.steps, graceMs, run.t)).catch((err: unknown) => {
      this.deps.log.error({ id, err: errorMessage(err) }, 'could not mark an action interrupted at shutdown');
      return undefined;
    });
    this.deps.log.warn({ id, steps: run.steps.length, graceMs }, 'action still running at the end of the shutdown grace: marked interrupted');
    // Undefined when another replica's sweep interrupted it first; that sweep updated the card.
    if (done) await this.refresh(await this.explain(done));
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<void>): void {
    this.running.add(p);
    // execute() never rejects; the catch is a second guard so a tracked promise can never be an unhandled rejection.
    void p.catch(() => {}).finally(() => this.running.delete(p));
  }

  private async refresh(req: ApprovalRequest, progress?: string): Promise<void> {
    if (!req.card_channel || !req.card_ts) return;
    const cancellable = !!this.commands.get(req.command)?.cancellable;
    const final = !['pending', 'approved', 'running'].includes(req.state);
    await this.deps.cards.update(req.card_channel, req.card_ts, approvalCard(req, this.cardT(req), progress, { cancellable }), { final }).catch((err: unknown) => {
      this.deps.log.warn({ id: req.id, err: errorMessage(err) }, 'card update failed');
    });
  }

  /** The language of the channel a request's card is in (or will be in). */
  private cardT(req: ApprovalRequest | undefined): T {
    return this.readers.forChannel(req?.card_channel ?? this.deps.config.channels.approvals?.id ?? req?.channel);
  }
}

/** "Request r-1 is already denied; nothing was done.", with the state in the reader's words. */
function closed(t: T, id: string, state: string): string {
  return t('approvals:reply.closed', { id, state: t(`approvals:states.${state}`) });
}
