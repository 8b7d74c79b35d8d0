import type { Queryable, Store } from '../store/types.ts';

export const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof STATUSES)[number];
export const TYPES = ['outage', 'data-loss', 'security'] as const;
export type IncidentType = (typeof TYPES)[number];

export interface Incident {
  id: number;
  title: string;
  type: IncidentType;
  severity: string;
  status: IncidentStatus;
  channel: string | null;
  channel_name: string | null;
  declared_by: string;
  declared_in: string;
  roles: Record<string, string>;
  card_ts: string | null;
  checklist_ts: string | null;
  announce_channel: string | null;
  announce_ts: string | null;
  summary: string | null;
  postmortem: string | null;
  declared_at: Date;
  acknowledged_at: Date | null;
  mitigated_at: Date | null;
  resolved_at: Date | null;
  last_update_at: Date;
  reminded_at: Date | null;
  archived_at: Date | null;
}

export type EventKind =
  | 'declared' | 'role' | 'status' | 'severity' | 'checklist' | 'command' | 'approval'
  | 'pin' | 'note' | 'update' | 'followup' | 'resolved' | 'reminder';

export interface TimelineEvent {
  id: string;
  incident_id: number;
  at: Date;
  kind: EventKind;
  actor: string | null;
  text: string;
  detail: Record<string, unknown>;
}

export interface ChecklistMark {
  item: string;
  done_by: string;
  done_at: Date;
}

export interface Followup {
  id: string;
  text: string;
  owner: string | null;
  created_by: string;
  created_at: Date;
}

/** Kinds that are a person acting on the incident: the first one after declaring "acknowledges" it. */
const HUMAN_KINDS: EventKind[] = ['role', 'status', 'severity', 'checklist', 'command', 'approval', 'pin', 'note', 'update', 'followup'];

/**
 * Incidents in the state store. Every change that others race on (two replicas reminding, two
 * people resolving) is one conditional UPDATE, so exactly one of them wins.
 */
export class IncidentStore {
  constructor(readonly db: Store) {}

  async create(p: { title: string; type: IncidentType; severity: string; declaredBy: string; declaredIn: string; roles: Record<string, string> }): Promise<Incident> {
    const [row] = await this.db.query<Incident>(
      `insert into incidents (id, title, type, severity, declared_by, declared_in, roles)
       values (nextval('incident_seq'), $1, $2, $3, $4, $5, $6) returning *`,
      [p.title, p.type, p.severity, p.declaredBy, p.declaredIn, JSON.stringify(p.roles)],
    );
    return row;
  }

  async get(id: number, q: Queryable = this.db): Promise<Incident | undefined> {
    return (await q.query<Incident>('select * from incidents where id = $1', [id]))[0];
  }

  /** The incident whose channel this is (open or not); undefined elsewhere. */
  async byChannel(channel: string): Promise<Incident | undefined> {
    return (await this.db.query<Incident>('select * from incidents where channel = $1', [channel]))[0];
  }

  /** Open incidents, most severe first, then oldest. */
  async open(): Promise<Incident[]> {
    return this.db.query<Incident>(`select * from incidents where status <> 'resolved' order by severity, declared_at`);
  }

  async recent(limit: number): Promise<Incident[]> {
    return this.db.query<Incident>(`select * from incidents order by (status = 'resolved'), declared_at desc limit $1`, [limit]);
  }

  async setChannel(id: number, channel: string, name: string): Promise<void> {
    await this.db.query('update incidents set channel = $2, channel_name = $3 where id = $1', [id, channel, name]);
  }

  async setMessages(id: number, fields: Partial<Pick<Incident, 'card_ts' | 'checklist_ts' | 'announce_channel' | 'announce_ts'>>): Promise<void> {
    const keys = Object.keys(fields) as Array<keyof typeof fields>;
    if (!keys.length) return;
    // The column names come from the fixed list above, never from input.
    const sets = keys.map((k, i) => `${k} = $${i + 2}`).join(', ');
    await this.db.query(`update incidents set ${sets} where id = $1`, [id, ...keys.map((k) => fields[k])]);
  }

  async setRole(id: number, role: string, user: string): Promise<Incident | undefined> {
    return (await this.db.query<Incident>(`update incidents set roles = roles || jsonb_build_object($2::text, $3::text) where id = $1 returning *`, [id, role, user]))[0];
  }

  /** Moves the status; the first move to monitoring (or straight to resolved) is when it was mitigated. */
  async setStatus(id: number, status: IncidentStatus, summary?: string): Promise<{ before: IncidentStatus; incident: Incident } | undefined> {
    return this.db.transaction(async (q) => {
      const [row] = await q.query<{ status: IncidentStatus }>('select status from incidents where id = $1 for update', [id]);
      if (!row) return undefined;
      const [incident] = await q.query<Incident>(
        `update incidents set status = $2::text,
           mitigated_at = case when $2::text in ('monitoring', 'resolved') then coalesce(mitigated_at, now()) else mitigated_at end,
           resolved_at = case when $2::text = 'resolved' then now() else null end,
           summary = coalesce($3::text, summary)
         where id = $1 returning *`,
        [id, status, summary ?? null],
      );
      return { before: row.status, incident };
    });
  }

  async setSeverity(id: number, severity: string): Promise<{ before: string; incident: Incident } | undefined> {
    return this.db.transaction(async (q) => {
      const [row] = await q.query<{ severity: string }>('select severity from incidents where id = $1 for update', [id]);
      if (!row) return undefined;
      const [incident] = await q.query<Incident>('update incidents set severity = $2 where id = $1 returning *', [id, severity]);
      return { before: row.severity, incident };
    });
  }

  async markUpdated(id: number): Promise<void> {
    await this.db.query('update incidents set last_update_at = now() where id = $1', [id]);
  }

  async savePostmortem(id: number, text: string): Promise<void> {
    await this.db.query('update incidents set postmortem = $2 where id = $1', [id, text]);
  }

  /**
   * Adds a timeline entry. A pinned message (sourceTs) is one entry however often it is pinned.
   * The first entry of a person acting sets acknowledged_at. Returns false for a repeat.
   */
  async addEvent(e: { incidentId: number; kind: EventKind; actor?: string | null; text?: string; detail?: Record<string, unknown>; at?: Date; sourceTs?: string }): Promise<boolean> {
    return this.db.transaction(async (q) => {
      const rows = await q.query(
        `insert into incident_events (incident_id, at, kind, actor, text, detail, source_ts)
         values ($1, coalesce($2::timestamptz, now()), $3, $4, $5, $6, $7)
         on conflict (incident_id, source_ts) do nothing returning id`,
        [e.incidentId, e.at ?? null, e.kind, e.actor ?? null, e.text ?? '', JSON.stringify(e.detail ?? {}), e.sourceTs ?? null],
      );
      if (rows.length && HUMAN_KINDS.includes(e.kind) && e.actor && !e.actor.startsWith('schedule:')) {
        await q.query('update incidents set acknowledged_at = coalesce(acknowledged_at, now()) where id = $1', [e.incidentId]);
      }
      return rows.length > 0;
    });
  }

  /** The timeline in order of the events' own times (a message pinned late sits where it was said). */
  async timeline(id: number): Promise<TimelineEvent[]> {
    return this.db.query<TimelineEvent>('select id::text, incident_id, at, kind, actor, text, detail from incident_events where incident_id = $1 order by at, id', [id]);
  }

  /** Checks (or unchecks) a plan item; returns the item's mark after the change, or undefined when unchecked. */
  async toggleItem(id: number, item: string, user: string): Promise<ChecklistMark | undefined> {
    return this.db.transaction(async (q) => {
      const removed = await q.query('delete from incident_checklist where incident_id = $1 and item = $2 returning item', [id, item]);
      if (removed.length) return undefined;
      const [mark] = await q.query<ChecklistMark>('insert into incident_checklist (incident_id, item, done_by) values ($1, $2, $3) returning item, done_by, done_at', [id, item, user]);
      return mark;
    });
  }

  async checklist(id: number): Promise<ChecklistMark[]> {
    return this.db.query<ChecklistMark>('select item, done_by, done_at from incident_checklist where incident_id = $1', [id]);
  }

  async addFollowup(id: number, text: string, owner: string | null, by: string): Promise<Followup> {
    const [row] = await this.db.query<Followup>(
      'insert into incident_followups (incident_id, text, owner, created_by) values ($1, $2, $3, $4) returning id::text, text, owner, created_by, created_at',
      [id, text, owner, by],
    );
    return row;
  }

  async followups(id: number): Promise<Followup[]> {
    return this.db.query<Followup>('select id::text, text, owner, created_by, created_at from incident_followups where incident_id = $1 order by id', [id]);
  }

  /**
   * Claims the reminder of every open incident whose last update is older than its severity's
   * `update_every` (and that was not reminded within it). One UPDATE: of many replicas sweeping at
   * once, exactly one gets each incident back.
   */
  async claimReminders(everyBySeverity: Record<string, number>): Promise<Incident[]> {
    const sev = Object.entries(everyBySeverity).filter(([, ms]) => ms > 0);
    if (!sev.length) return [];
    return this.db.query<Incident>(
      `update incidents i set reminded_at = now()
       from (select * from jsonb_each_text($1::jsonb)) s(severity, ms)
       where i.severity = s.severity and i.status <> 'resolved' and i.channel is not null
         and greatest(i.last_update_at, coalesce(i.reminded_at, i.last_update_at)) <= now() - s.ms::bigint * interval '1 millisecond'
       returning i.*`,
      [JSON.stringify(Object.fromEntries(sev))],
    );
  }

  /** Claims resolved incidents whose channel is due for archiving. */
  async claimArchives(afterMs: number): Promise<Incident[]> {
    return this.db.query<Incident>(
      `update incidents set archived_at = now()
       where status = 'resolved' and archived_at is null and channel is not null and resolved_at <= now() - $1::bigint * interval '1 millisecond'
       returning *`,
      [afterMs],
    );
  }

  async releaseArchive(id: number): Promise<void> {
    await this.db.query('update incidents set archived_at = null where id = $1', [id]);
  }

  /** Claims open incidents whose card (elapsed time) has not been refreshed for `everyMs`. */
  async claimCardRefresh(everyMs: number): Promise<Incident[]> {
    return this.db.query<Incident>(
      `update incidents set card_refreshed_at = now()
       where status <> 'resolved' and card_ts is not null and coalesce(card_refreshed_at, declared_at) <= now() - $1::bigint * interval '1 millisecond'
       returning *`,
      [everyMs],
    );
  }
}
