import type { Store } from '../store/types.ts';
import type { Kind } from './items.ts';
import type { Status } from '../core/report.ts';

export interface ItemResult {
  status: Status;
  summary: string;
}

export interface ChecklistRun {
  id: string;
  kind: Kind;
  channel: string;
  started_by: string;
  results: Record<string, ItemResult>;
  created_at: Date;
}

export interface Mark {
  item: string;
  done_by: string;
  done_at: Date;
}

const RUN = 'select id::text, kind, channel, started_by, results, created_at from checklist_runs';

export class ChecklistStore {
  constructor(private readonly db: Store) {}

  async create(kind: Kind, channel: string, by: string, results: Record<string, ItemResult>): Promise<ChecklistRun> {
    const [{ id }] = await this.db.query<{ id: string }>(
      'insert into checklist_runs (kind, channel, started_by, results) values ($1, $2, $3, $4) returning id::text',
      [kind, channel, by, JSON.stringify(results)],
    );
    return (await this.get(id))!;
  }

  async get(id: string): Promise<ChecklistRun | undefined> {
    // i18n-exempt: SQL conditions, not prose
    return (await this.db.query<ChecklistRun>(`${RUN} where id = $1`, [id]))[0];
  }

  async marks(id: string): Promise<Mark[]> {
    return this.db.query<Mark>('select item, done_by, done_at from checklist_marks where run_id = $1', [id]);
  }

  /** Checks an item, or unchecks it when it was checked. */
  async toggle(id: string, item: string, user: string): Promise<void> {
    await this.db.transaction(async (q) => {
      const removed = await q.query('delete from checklist_marks where run_id = $1 and item = $2 returning item', [id, item]);
      if (!removed.length) await q.query('insert into checklist_marks (run_id, item, done_by) values ($1, $2, $3) on conflict do nothing', [id, item, user]);
    });
  }

  /**
   * Claims the runs whose day's reminder time (`remindAt` "HH:MM" in `timeZone`) has passed since
   * they were posted, and that were not reminded yet (one posted after it waits for no reminder). One UPDATE: of several replicas, one gets each run.
   */
  async claimReminders(remindAt: string, timeZone: string): Promise<ChecklistRun[]> {
    return this.db.query<ChecklistRun>(
      `update checklist_runs set reminded_at = now()
       where reminded_at is null and created_at > now() - interval '2 days'
         and ((date_trunc('day', created_at at time zone $2) + $1::interval) at time zone $2) between created_at and now()
       returning id::text, kind, channel, started_by, results, created_at`,
      [remindAt, timeZone],
    );
  }
}
