/** The service_versions table: one row per image switch that /upgrade or /rollback kept. */
import type { Store } from '../store/types.ts';

export interface VersionRow {
  id: string;
  service: string;
  container: string;
  image: string;
  tag: string;
  image_id: string;
  digest: string | null;
  deployed_at: Date;
  deployed_by: string;
  kind: 'upgrade' | 'rollback';
  replaced_image: string;
  replaced_image_id: string;
  request_id: string;
  backup_id: string | null;
  downtime_ms: number;
}

export type NewVersion = Omit<VersionRow, 'id' | 'deployed_at'>;

export class VersionStore {
  constructor(private readonly store: Store) {}

  async record(v: NewVersion): Promise<void> {
    await this.store.query(
      `insert into service_versions (service, container, image, tag, image_id, digest, deployed_by, kind, replaced_image, replaced_image_id, request_id, backup_id, downtime_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [v.service, v.container, v.image, v.tag, v.image_id, v.digest, v.deployed_by, v.kind, v.replaced_image, v.replaced_image_id, v.request_id, v.backup_id, Math.round(v.downtime_ms)],
    );
  }

  /** The newest row of each service (of one, when given). */
  async latest(service?: string): Promise<VersionRow[]> {
    return this.store.query<VersionRow>(
      `select distinct on (service) * from service_versions where $1::text is null or service = $1 order by service, id desc`,
      [service ?? null],
    );
  }
}
