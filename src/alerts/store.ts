import type { Queryable } from '../store/types.ts';
import type { WebhookPayload } from './webhook.ts';

export interface CardSilence {
  id: string;
  by: string;
  until: string;
}

export interface AlertGroupRow {
  id: string;
  group_key: string;
  channel: string;
  ts: string | null;
  status: 'firing' | 'resolved';
  group_labels: Record<string, string>;
  common_labels: Record<string, string>;
  payload: WebhookPayload;
  version: string;
  acked_by: string | null;
  acked_at: Date | null;
  silences: CardSilence[];
}

/** What recording a notification decided: post the card (this replica claimed it), update it, or leave it to its poster. */
export type Recorded = { row: AlertGroupRow; action: 'post' | 'update' | 'wait' };

/** A claim whose card was not posted within this long is taken to be lost (its replica died) and taken over. */
export const STALE_CLAIM_SECONDS = 120;

// i18n-exempt: SQL, the columns every query returns
const COLUMNS = 'id::text as id, group_key, channel, ts, status, group_labels, common_labels, payload, version::text as version, acked_by, acked_at, silences';

/** alert_groups: one row per Alertmanager group, the claim on its card and what the card shows. */
export class AlertGroupStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Stores a notification. The insert is the claim: of two replicas receiving the same group at
   * once, exactly one inserts and posts the card; the other only stores the newer state, which the
   * poster renders once it has the message (it compares `version`).
   */
  async record(p: WebhookPayload, channel: string): Promise<Recorded> {
    const rows = await this.db.query<AlertGroupRow & { inserted: boolean }>(
      `insert into alert_groups as g (group_key, channel, status, group_labels, common_labels, payload)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (group_key) do update set
         status = excluded.status, group_labels = excluded.group_labels, common_labels = excluded.common_labels,
         payload = excluded.payload, version = g.version + 1, updated_at = now(),
         -- a group that fires again after it resolved is a new episode: the old acknowledgement is not for it
         acked_by = case when g.status = 'resolved' and excluded.status = 'firing' then null else g.acked_by end,
         acked_at = case when g.status = 'resolved' and excluded.status = 'firing' then null else g.acked_at end
       returning ${COLUMNS}, (xmax = 0) as inserted`,
      [p.groupKey, channel, p.status, JSON.stringify(p.groupLabels), JSON.stringify(p.commonLabels), JSON.stringify(p)],
    );
    const row = rows[0];
    if (row.inserted) return { row, action: 'post' };
    if (row.ts) return { row, action: 'update' };
    // Claimed, not posted yet: its poster will pick up this state, unless it died long ago.
    const taken = await this.db.query<{ id: string }>(
      `update alert_groups set claimed_at = now() where id = $1 and ts is null and claimed_at < now() - make_interval(secs => $2) returning id`,
      [row.id, STALE_CLAIM_SECONDS],
    );
    return { row, action: taken.length ? 'post' : 'wait' };
  }

  /** The card is posted: remembers where. Returns the row as it is now, newer notifications included. */
  async posted(id: string, ts: string): Promise<AlertGroupRow> {
    const rows = await this.db.query<AlertGroupRow>(`update alert_groups set ts = $2 where id = $1 returning ${COLUMNS}`, [id, ts]);
    return rows[0];
  }

  /** Posting failed: the claim is released, so that the next notification of the group posts again. */
  async release(id: string): Promise<void> {
    await this.db.query(`update alert_groups set claimed_at = 'epoch' where id = $1 and ts is null`, [id]);
  }

  async get(id: string): Promise<AlertGroupRow | undefined> {
    if (!/^[0-9]{1,18}$/.test(id)) return undefined;
    return (await this.db.query<AlertGroupRow>(`select ${COLUMNS} from alert_groups where id = $1`, [id]))[0];
  }

  /** Records who acknowledged the group; the first acknowledgement stands until the group fires again. */
  async acknowledge(id: string, user: string): Promise<{ row: AlertGroupRow; first: boolean } | undefined> {
    const first = await this.db.query<AlertGroupRow>(
      `update alert_groups set acked_by = $2, acked_at = now() where id = $1 and acked_by is null returning ${COLUMNS}`, [id, user],
    );
    if (first.length) return { row: first[0], first: true };
    const row = await this.get(id);
    return row && { row, first: false };
  }

  async addSilence(id: string, s: CardSilence): Promise<AlertGroupRow | undefined> {
    const rows = await this.db.query<AlertGroupRow>(
      `update alert_groups set silences = silences || $2::jsonb where id = $1 returning ${COLUMNS}`, [id, JSON.stringify([s])],
    );
    return rows[0];
  }

  /** Takes an expired silence off the cards that show it. */
  async dropSilence(silenceId: string): Promise<AlertGroupRow[]> {
    return this.db.query<AlertGroupRow>(
      `update alert_groups set silences = coalesce((select jsonb_agg(e) from jsonb_array_elements(silences) e where e->>'id' <> $1), '[]'::jsonb)
       where silences @> $2::jsonb returning ${COLUMNS}`,
      [silenceId, JSON.stringify([{ id: silenceId }])],
    );
  }
}
