import type { ApprovalRequest } from './store.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { T } from '../i18n/index.ts';

/** What renews a lease; ApprovalStore.heartbeat in production. */
export interface LeaseStore {
  heartbeat(id: string, runner: string, leaseMs: number): Promise<'ok' | 'stop' | 'lost'>;
}

/** Thrown at a step boundary once the runner no longer holds the lease: it must not go on. */
export class LeaseLostError extends Error {
  constructor(readonly nextStep: string) {
    // i18n-exempt: for the log; the card tells the reader through lostLeaseResult
    super(`stopped before "${nextStep}": this runner lost its lease`);
    this.name = 'LeaseLostError';
  }
}

/**
 * A running action's claim on its request. It is renewed in the background; it is lost when the
 * renewal finds the request no longer ours (a sweeper judged this runner dead and marked it
 * interrupted), or when no renewal has succeeded for a whole lease, because by then any other
 * replica may judge it dead. The runner asks `check()` before each step and stops when lost.
 */
export class Lease {
  lost = false;
  /** The step the runner was about to start when it noticed the loss. */
  lostBefore: string | undefined;
  private readonly abort = new AbortController();
  /** Aborted when someone presses Stop (seen here, or by a heartbeat when pressed on another replica). */
  private readonly stopAbort = new AbortController();
  stoppedBy: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private lastRenewed = Date.now();
  private renewing = false;

  constructor(private readonly store: LeaseStore, private readonly id: string, private readonly runner: string, private readonly ms: number, private readonly log: Logger) {
    this.timer = setInterval(() => void this.renew(), Math.max(200, Math.floor(ms / 3)));
  }

  /** Aborted when the lease is lost, for steps that can stop midway. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Aborted when the lease is lost or Stop was pressed: what a cancellable step listens to. */
  readonly either = AbortSignal.any([this.abort.signal, this.stopAbort.signal]);

  /** Stop was pressed (by `user`; undefined when only the heartbeat saw it and the name is read later). */
  stop_(user: string | undefined): void {
    if (this.stopAbort.signal.aborted) return;
    this.stoppedBy = user;
    // i18n-exempt: the abort reason, never shown to a reader
    this.stopAbort.abort(new Error('stopped from the card'));
  }

  get stopRequested(): boolean {
    return this.stopAbort.signal.aborted;
  }

  check(nextStep: string): void {
    if (!this.lost) return;
    this.lostBefore ??= nextStep;
    throw new LeaseLostError(nextStep);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Gives the lease up (shutdown past its grace): lost as if taken, so no further step starts. */
  release(why: string): void {
    this.stop();
    this.lose(why);
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.lost) return; // a slow store: never stack renewals
    this.renewing = true;
    try {
      const beat = await this.store.heartbeat(this.id, this.runner, this.ms);
      if (beat !== 'lost') this.lastRenewed = Date.now();
      if (beat === 'stop') this.stop_(undefined);
      // i18n-exempt: logged and the abort reason, never shown to a reader
      if (beat === 'lost') this.lose('the request is no longer running under this runner');
    } catch (err) {
      // i18n-exempt: logged and the abort reason, never shown to a reader
      if (Date.now() - this.lastRenewed >= this.ms) this.lose(`no renewal for ${this.ms} ms (${errorMessage(err)})`);
    } finally {
      this.renewing = false;
    }
  }

  private lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.log.warn({ id: this.id, runner: this.runner, why }, 'lease lost');
    this.abort.abort(new Error(`lease lost: ${why}`));
  }
}

/**
 * The result a runner records after losing its lease: what ran, and where it stopped. Written in
 * the card channel's language (`t`), like every result the card shows.
 */
export function lostLeaseResult(steps: string[], result: ApprovalRequest['result'], stoppedBefore: string | undefined, t: T): NonNullable<ApprovalRequest['result']> {
  const ran = steps.length ? [t('approvals:lease.steps_ran'), ...steps.map((s, i) => `${i + 1}. ${s}`)] : [];
  if (stoppedBefore !== undefined) {
    return {
      status: 'crit',
      summary: steps.length ? t('approvals:lease.stopped_before', { step: stoppedBefore, count: steps.length }) : t('approvals:lease.before_first'),
      lines: ran,
    };
  }
  return {
    status: result?.status ?? 'crit',
    summary: t('approvals:lease.ran_to_end', { result: result?.summary ?? t('approvals:lease.no_result') }),
    lines: [...ran, ...(result?.lines ?? [])],
  };
}
