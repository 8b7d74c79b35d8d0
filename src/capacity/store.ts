import type { Queryable } from '../store/types.ts';

export type SampleKind = 'disk' | 'database' | 'redis';

export interface Sample {
  kind: SampleKind;
  target: string;
  item: string;
  value: number;
  total: number | null;
}

export interface StoredSample extends Sample {
  /** Epoch ms. */
  at: number;
}

/** capacity_samples: what scheduled health checks measured, for fitting growth. */
export class CapacityStore {
  constructor(private readonly db: Queryable) {}

  /**
   * One run's samples in one statement (arrays unnested server-side), then samples past
   * `retentionMs` deleted: the table stays bounded however long the bot runs.
   */
  async record(at: number, samples: readonly Sample[], retentionMs: number): Promise<void> {
    if (samples.length) {
      await this.db.query(
        `insert into capacity_samples (at, kind, target, item, value, total)
         select to_timestamp($1::double precision / 1000), k, t, i, v, tot
         from unnest($2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[]) as s(k, t, i, v, tot)`,
        [at, samples.map((s) => s.kind), samples.map((s) => s.target), samples.map((s) => s.item), samples.map((s) => s.value), samples.map((s) => s.total)],
      );
    }
    await this.db.query(`delete from capacity_samples where at < now() - make_interval(secs => $1)`, [retentionMs / 1000]);
  }

  /** Every sample taken since `since` (epoch ms), by series and time. */
  async since(since: number): Promise<StoredSample[]> {
    const rows = await this.db.query<{ at: number; kind: SampleKind; target: string; item: string; value: number; total: number | null }>(
      `select (extract(epoch from at) * 1000)::float8 as at, kind, target, item, value, total
       from capacity_samples where at >= to_timestamp($1::double precision / 1000)
       order by kind, target, item, at`,
      [since],
    );
    return rows.map((r) => ({ ...r, at: Number(r.at), value: Number(r.value), total: r.total === null ? null : Number(r.total) }));
  }
}
