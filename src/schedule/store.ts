import type { Queryable } from '../store/types.ts';

/** on time | run at start for a fire missed while down | reported as missed | /schedule run */
export type FireKind = 'fire' | 'catch_up' | 'missed' | 'manual';

export interface FireRow {
  schedule: string;
  fire_at: Date;
  kind: FireKind;
  claimed_at: Date;
  /** Null while it runs. */
  outcome: string | null;
  finished_at: Date | null;
}

/** The claims table (migration 004): one row per fire, whose primary key decides who runs it. */
export class FireStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Records what a schedule looks like now and returns since when it has looked like that. A new
   * signature (new schedule, changed pattern or zone, re-enabled) moves `since` to now.
   */
  async register(schedule: string, signature: string, now: Date): Promise<Date> {
    const rows = await this.db.query<{ since: Date }>(
      `insert into schedule_registrations (schedule, signature, since) values ($1, $2, $3)
       on conflict (schedule) do update set signature = excluded.signature, since = excluded.since
         where schedule_registrations.signature <> excluded.signature
       returning since`,
      [schedule, signature, now],
    );
    if (rows[0]) return new Date(rows[0].since);
    const [row] = await this.db.query<{ since: Date }>('select since from schedule_registrations where schedule = $1', [schedule]);
    return new Date(row.since);
  }

  /** The latest fire that was due by the calendar (manual runs are not fires of the calendar). */
  async lastDue(schedule: string): Promise<Date | undefined> {
    const [row] = await this.db.query<{ at: Date | null }>(
      `select max(fire_at) as at from schedule_fires where schedule = $1 and kind <> 'manual'`,
      [schedule],
    );
    return row?.at ? new Date(row.at) : undefined;
  }

  /** True for exactly one caller per (schedule, fire_at), whichever replica inserts first. */
  async claim(schedule: string, at: Date, kind: FireKind, by: string): Promise<boolean> {
    const rows = await this.db.query(
      `insert into schedule_fires (schedule, fire_at, kind, claimed_by) values ($1, $2, $3, $4)
       on conflict (schedule, fire_at) do nothing returning fire_at`,
      [schedule, at, kind, by],
    );
    return rows.length === 1;
  }

  async finish(schedule: string, at: Date, outcome: string): Promise<void> {
    await this.db.query('update schedule_fires set outcome = $3, finished_at = now() where schedule = $1 and fire_at = $2', [schedule, at, outcome]);
  }

  /** Each schedule's most recent claim (run, catch-up, missed or manual). */
  async latest(): Promise<Map<string, FireRow>> {
    const rows = await this.db.query<FireRow>(
      `select distinct on (schedule) schedule, fire_at, kind, claimed_at, outcome, finished_at
         from schedule_fires order by schedule, claimed_at desc, fire_at desc`,
    );
    return new Map(rows.map((r) => [r.schedule, r]));
  }
}
