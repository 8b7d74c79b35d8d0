import type { Queryable } from '../store/types.ts';

export interface AuditEvent {
  actor: string;
  channel?: string;
  command: string;
  args?: string;
  /** ok | warn | crit | invalid | denied | rate_limited | error, and later approval steps. */
  outcome: string;
  ref?: string;
  detail?: Record<string, unknown>;
}

export interface AuditRow extends Required<Omit<AuditEvent, 'ref' | 'channel'>> {
  id: string;
  at: Date;
  channel: string | null;
  ref: string | null;
}

/** Append-only log of what was asked and what happened. */
export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(e: AuditEvent): Promise<void> {
    await this.db.query(
      'insert into audit_events (actor, channel, command, args, outcome, ref, detail) values ($1, $2, $3, $4, $5, $6, $7)',
      [e.actor, e.channel ?? null, e.command, e.args ?? '', e.outcome, e.ref ?? null, JSON.stringify(e.detail ?? {})],
    );
  }

  async recent(opts: { limit?: number; actor?: string } = {}): Promise<AuditRow[]> {
    const limit = Math.min(Math.max(opts.limit ?? 20, 1), 500);
    return opts.actor
      ? this.db.query<AuditRow>('select * from audit_events where actor = $1 order by id desc limit $2', [opts.actor, limit])
      : this.db.query<AuditRow>('select * from audit_events order by id desc limit $1', [limit]);
  }
}
