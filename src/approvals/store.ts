import type { Queryable, Store } from '../store/types.ts';
import { AuditLog } from '../core/audit.ts';
import type { Plan } from './plan.ts';
import { logT } from '../i18n/index.ts';

export type ApprovalState = 'pending' | 'approved' | 'running' | 'succeeded' | 'failed' | 'interrupted' | 'denied' | 'cancelled' | 'expired';

/** What a heartbeat found: still ours, someone asked it to stop, or no longer ours to run. */
export type Heartbeat = 'ok' | 'stop' | 'lost';

export interface ApprovalRequest {
  id: string;
  command: string;
  args_text: string;
  plan: Plan;
  plan_hash: string;
  requester: string;
  channel: string;
  card_channel: string | null;
  card_ts: string | null;
  rule: string;
  approver_roles: string[];
  approvals_needed: number;
  state: ApprovalState;
  break_glass: string | null;
  reason: string | null;
  decided_by: string | null;
  runner: string | null;
  result: { summary?: string; lines?: string[]; status?: string } | null;
  /** Who pressed Stop on a running job or action's card. */
  stop_requested_by: string | null;
  /** What the run holds exclusively while running (e.g. "postgres:main"), from plan.target.lock. */
  lock_key: string | null;
  created_at: Date;
  expires_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** Who has approved so far, oldest first (joined from approval_votes). */
  approvers: string[];
  /** Asked during a change freeze: this person (the incident commander) must be among the approvers. */
  required_approver: string | null;
  /** The incident whose freeze this request was asked under. */
  incident_id: number | null;
}

export type VoteResult =
  | { outcome: 'missing' }
  /** approved: this vote was the deciding one; counted: recorded, more needed; repeat: this approver had already voted. */
  | { outcome: 'approved' | 'counted' | 'repeat' | 'closed' | 'expired' | 'own'; request: ApprovalRequest };

export type NewRequest = Pick<ApprovalRequest, 'command' | 'args_text' | 'plan' | 'plan_hash' | 'requester' | 'channel' | 'rule' | 'approver_roles' | 'approvals_needed'> & {
  ttlMs: number;
  breakGlass?: string;
  requiredApprover?: string;
  incidentId?: number;
};

const SELECT = `select r.*, coalesce((select json_agg(v.approver order by v.at, v.approver) from approval_votes v where v.request_id = r.id), '[]'::json) as approvers
  from approval_requests r`;

/**
 * The state machine in SQL. Each transition is one conditional UPDATE inside a transaction that
 * also writes its audit row: a transition that cannot be audited does not happen, and of many
 * concurrent callers exactly one gets the row back.
 */
export class ApprovalStore {
  constructor(private readonly store: Store) {}

  async get(id: string, q: Queryable = this.store): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return (await q.query<ApprovalRequest>(`${SELECT} where r.id = $1`, [id]))[0];
  }

  async create(req: NewRequest): Promise<ApprovalRequest> {
    return this.store.transaction(async (q) => {
      const [{ id }] = await q.query<{ id: string }>(
        `insert into approval_requests (id, command, args_text, plan, plan_hash, requester, channel, rule, approver_roles, approvals_needed, break_glass, expires_at, lock_key, required_approver, incident_id)
         values ('r-' || nextval('approval_request_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + $11 * interval '1 millisecond', $12, $13, $14)
         returning id`,
        [req.command, req.args_text, JSON.stringify(req.plan), req.plan_hash, req.requester, req.channel, req.rule, JSON.stringify(req.approver_roles), req.approvals_needed, req.breakGlass ?? null, req.ttlMs,
          typeof req.plan.target.lock === 'string' ? req.plan.target.lock : null, req.requiredApprover ?? null, req.incidentId ?? null],
      );
      const kind = req.breakGlass ? 'break_glass' : req.approvals_needed === 0 ? 'job' : 'requested';
      await audit(q, req.requester, req.channel, id, req.command, kind, { plan: logT().text(req.plan.summary), reason: req.breakGlass });
      return (await this.get(id, q))!;
    });
  }

  async setCard(id: string, channel: string, ts: string): Promise<void> {
    await this.store.query('update approval_requests set card_channel = $2, card_ts = $3 where id = $1', [id, channel, ts]);
  }

  /**
   * Records a vote; when enough distinct approvers have voted, moves pending → approved.
   * The request's row is locked first, so votes on one request are serialized: the vote that
   * reaches the count always sees every earlier one, and exactly one vote approves. Expiry is
   * judged by the database's clock, the same clock every transition uses.
   */
  async vote(id: string, approver: string, leaseMs: number): Promise<VoteResult> {
    return this.store.transaction(async (q) => {
      const [row] = await q.query<{ command: string; state: ApprovalState; requester: string; expired: boolean }>(
        'select command, state, requester, expires_at <= now() as expired from approval_requests where id = $1 for update',
        [id],
      );
      if (!row) return { outcome: 'missing' };
      const current = async () => (await this.get(id, q))!;
      if (row.state !== 'pending') return { outcome: 'closed', request: await current() };
      if (row.expired) return { outcome: 'expired', request: await current() };
      if (row.requester === approver) return { outcome: 'own', request: await current() };
      const inserted = await q.query(
        'insert into approval_votes (request_id, approver) values ($1, $2) on conflict do nothing returning approver',
        [id, approver],
      );
      if (!inserted.length) return { outcome: 'repeat', request: await current() };
      await audit(q, approver, null, id, row.command, 'approve_vote', {});
      const approved = await q.query(
        `update approval_requests r set state = 'approved', decided_by = $2, updated_at = now(), lease_until = now() + $3 * interval '1 millisecond'
         where r.id = $1 and r.state = 'pending'
           and (select count(*) from approval_votes v where v.request_id = r.id) >= r.approvals_needed
           and (r.required_approver is null or exists (select 1 from approval_votes v where v.request_id = r.id and v.approver = r.required_approver))
         returning id`,
        [id, approver, leaseMs],
      );
      if (approved.length) await audit(q, approver, null, id, row.command, 'approved', {});
      return { outcome: approved.length ? 'approved' : 'counted', request: await current() };
    });
  }

  /** Break-glass: the requester approves their own request; allowed only when it was created as such. */
  async approveBreakGlass(id: string, user: string, leaseMs: number): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, user, `state = 'approved', decided_by = $2, lease_until = now() + $3 * interval '1 millisecond'`, `state = 'pending' and break_glass is not null and requester = $2`, [leaseMs], 'approved_break_glass');
  }

  /** A job needs no votes: pending → approved at once, audited as the requester's own start. */
  async approveJob(id: string, user: string, leaseMs: number): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, user, `state = 'approved', decided_by = $2, lease_until = now() + $3 * interval '1 millisecond'`, `state = 'pending' and approvals_needed = 0 and requester = $2`, [leaseMs], 'approved_job');
  }

  /** A schedule named by its rule: the rule is the approval (config approvals.rules.<key>.schedules). */
  async approveByRule(id: string, actor: string, leaseMs: number): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, actor, `state = 'approved', decided_by = $2, lease_until = now() + $3 * interval '1 millisecond'`, `state = 'pending' and requester = $2`, [leaseMs], 'approved_by_rule');
  }

  /**
   * approved → running, claimed by one runner with a lease it must keep renewing. 'busy' when
   * another run holds the same lock (plan.target.lock) right now: the database decides.
   */
  async start(id: string, runner: string, leaseMs: number): Promise<ApprovalRequest | undefined | { busy: ApprovalRequest }> {
    try {
      return await this.transition(id, runner, `state = 'running', runner = $2, started_at = now(), lease_until = now() + $3 * interval '1 millisecond'`, `state = 'approved'`, [leaseMs], 'started', 'opsbot');
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      // i18n-exempt: SQL conditions, not prose
      const [holder] = await this.store.query<ApprovalRequest>(`${SELECT} where r.state = 'running' and r.lock_key = (select lock_key from approval_requests where id = $1)`, [id]);
      return { busy: holder ?? (await this.get(id))! };
    }
  }

  /** The run currently holding a lock, if any. */
  async holder(lock: string): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return (await this.store.query<ApprovalRequest>(`${SELECT} where r.state = 'running' and r.lock_key = $1`, [lock]))[0];
  }

  /** An approved request that could not start (its lock was held): approved → failed, with why. */
  async refuse(id: string, result: ApprovalRequest['result']): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, 'opsbot', `state = 'failed', result = $3, finished_at = now(), decided_by = coalesce(decided_by, $2)`, `state = 'approved'`, [JSON.stringify(result)], 'refused_busy');
  }

  /** Stop pressed on a running card: recorded, and seen by the runner at its next heartbeat. */
  async requestStop(id: string, user: string): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, user, `stop_requested_by = coalesce(stop_requested_by, $2)`, `state = 'running'`, [], 'stop_requested');
  }

  /** Renews the runner's lease: 'lost' when the request is no longer this runner's to run, 'stop' when someone pressed Stop. */
  async heartbeat(id: string, runner: string, leaseMs: number): Promise<Heartbeat> {
    const rows = await this.store.query<{ stop_requested_by: string | null }>(
      `update approval_requests set lease_until = now() + $3 * interval '1 millisecond' where id = $1 and state = 'running' and runner = $2 returning stop_requested_by`,
      [id, runner, leaseMs],
    );
    if (!rows.length) return 'lost';
    return rows[0].stop_requested_by ? 'stop' : 'ok';
  }

  /** Replaces the result of a finished request (e.g. where a restore left the data, after an interruption). */
  async amendResult(id: string, result: ApprovalRequest['result']): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, 'opsbot', `result = $3`, `state in ('interrupted', 'failed') and $2::text is not null`, [JSON.stringify(result)], 'result_amended');
  }

  async finish(id: string, runner: string, state: 'succeeded' | 'failed' | 'cancelled', result: ApprovalRequest['result']): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, runner, `state = $3, result = $4, finished_at = now()`, `state = 'running' and runner = $2`, [state, JSON.stringify(result)], state, 'opsbot');
  }

  /**
   * A runner that lost its lease (the request was marked interrupted meanwhile) records what it
   * actually did, so the card tells the truth instead of "interrupted, not re-run".
   */
  async recordAfterLostLease(id: string, runner: string, result: ApprovalRequest['result']): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, runner, `result = $3`, `state = 'interrupted' and runner = $2`, [JSON.stringify(result)], 'lost_lease', 'opsbot');
  }

  /** A runner gives up its own run (shutdown past its grace): running → interrupted, with what it did. */
  async interruptRunner(id: string, runner: string, result: ApprovalRequest['result']): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, runner, `state = 'interrupted', result = $3, finished_at = now()`, `state = 'running' and runner = $2`, [JSON.stringify(result)], 'interrupted', 'opsbot');
  }

  async deny(id: string, user: string, reason: string): Promise<ApprovalRequest | undefined> {
    return this.transition(id, user, `state = 'denied', decided_by = $2, reason = $3, finished_at = now()`, `state = 'pending' and expires_at > now()`, [reason], 'denied');
  }

  async cancel(id: string, user: string): Promise<ApprovalRequest | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return this.transition(id, user, `state = 'cancelled', decided_by = $2, finished_at = now()`, `state = 'pending' and requester = $2`, [], 'cancelled');
  }

  /** Closes pending requests past their TTL; returns them so their cards can be updated. */
  async expireDue(): Promise<ApprovalRequest[]> {
    return this.sweep(`state = 'expired', finished_at = now()`, `state = 'pending' and expires_at <= now()`, 'expired');
  }

  /** Approved or running requests whose runner stopped renewing its lease (the process died). */
  async interruptStale(): Promise<ApprovalRequest[]> {
    // i18n-exempt: SQL conditions, not prose
    return this.sweep(`state = 'interrupted', finished_at = now()`, `state in ('approved', 'running') and lease_until < now()`, 'interrupted');
  }

  async open(): Promise<ApprovalRequest[]> {
    // i18n-exempt: SQL conditions, not prose
    return this.store.query<ApprovalRequest>(`${SELECT} where r.state = 'pending' and r.expires_at > now() order by r.created_at`);
  }

  /** `actor` fills $2 in the SQL; the audit row names `auditActor` (the bot itself for its own steps). */
  private async transition(id: string, actor: string, set: string, where: string, extra: unknown[], outcome: string, auditActor = actor): Promise<ApprovalRequest | undefined> {
    return this.store.transaction(async (q) => {
      const rows = await q.query<{ command: string }>(`update approval_requests set ${set}, updated_at = now() where id = $1 and ${where} returning command`, [id, actor, ...extra]);
      if (!rows.length) return undefined;
      await audit(q, auditActor, null, id, rows[0].command, outcome, auditActor === actor ? {} : { runner: actor });
      return this.get(id, q);
    });
  }

  private async sweep(set: string, where: string, outcome: string): Promise<ApprovalRequest[]> {
    return this.store.transaction(async (q) => {
      const rows = await q.query<{ id: string; command: string }>(`update approval_requests set ${set}, updated_at = now() where ${where} returning id, command`);
      const out: ApprovalRequest[] = [];
      for (const { id, command } of rows) {
        await audit(q, 'opsbot', null, id, command, outcome, {});
        out.push((await this.get(id, q))!);
      }
      return out;
    });
  }
}

/** Audit rows for approval steps: the request's command, its id as args, outcome "approval.<step>". */
async function audit(q: Queryable, actor: string, channel: string | null, id: string, command: string | null, outcome: string, detail: Record<string, unknown>): Promise<void> {
  await new AuditLog(q).record({ actor, channel: channel ?? undefined, command: command ?? 'approval', args: id, outcome: `approval.${outcome}`, detail });
}
