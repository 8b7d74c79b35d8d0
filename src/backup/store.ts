import type { Store } from '../store/types.ts';

/** One table's rows as counted inside the dump's own snapshot. */
export interface TableCount {
  schema: string;
  name: string;
  /** null for a schema-only dump. */
  rows: number | null;
}

export interface ManifestFile {
  /** Relative to the backup's directory, e.g. "toc.dat" or "3456.dat.gz". */
  name: string;
  bytes: number;
  sha256: string;
}

/** Stored beside the backup (manifest.json) and in the state store. */
export interface Manifest {
  version: 1;
  id: string;
  kind: 'postgres' | 'files';
  target: string;
  database: string;
  server_version: string;
  pg_dump_version: string;
  format: 'directory' | 'tar';
  compression: string;
  mode: 'full' | 'data-only' | 'schema-only' | 'files';
  run_on: string;
  path: string;
  started_at: string;
  duration_ms: number;
  size_bytes: number;
  files: ManifestFile[];
  tables: TableCount[];
  /** File archives: the paths archived and whether the archive is encrypted. */
  paths?: string[];
  encrypted?: boolean;
}

export interface BackupCopy {
  host: string;
  path: string;
  at: string;
  ok: boolean;
  error?: string;
}

export interface BackupRow {
  id: string;
  kind: 'postgres' | 'files';
  target: string;
  mode: string;
  state: 'running' | 'ok' | 'failed' | 'deleted';
  run_on: string;
  path: string;
  request_id: string | null;
  manifest: Manifest | null;
  size_bytes: string | null;
  error: string | null;
  copies: BackupCopy[];
  started_at: Date;
  finished_at: Date | null;
  verified_at: Date | null;
  verify_ok: boolean | null;
  verify_detail: { summary: string; lines: string[] } | null;
  deleted_at: Date | null;
}

/** The backups table (migration 006): every backup made, its manifest, verification and copies. */
export class BackupStore {
  constructor(private readonly store: Store) {}

  /**
   * Records a new backup under the id `make` gives for its start time. Ids have whole seconds, so
   * a second backup of a target within the same second finds its id taken: it then waits for the
   * next second. The state store decides, so two replicas never share an id.
   */
  async begin(make: (at: Date) => { id: string; kind: BackupRow['kind']; target: string; mode: string; run_on: string; path: string; request_id: string | null }): Promise<{ id: string; path: string; started: Date }> {
    for (let attempt = 0; ; attempt++) {
      const started = new Date();
      const b = make(started);
      const rows = await this.store.query(
        `insert into backups (id, kind, target, mode, state, run_on, path, request_id) values ($1, $2, $3, $4, 'running', $5, $6, $7)
         on conflict (id) do nothing returning id`,
        [b.id, b.kind, b.target, b.mode, b.run_on, b.path, b.request_id],
      );
      if (rows.length) return { id: b.id, path: b.path, started };
      // i18n-exempt: an internal error, for the log
      if (attempt >= 4) throw new Error(`backup id ${b.id} is taken`);
      await new Promise((r) => setTimeout(r, 1005 - started.getMilliseconds()));
    }
  }

  async succeed(id: string, manifest: Manifest): Promise<void> {
    await this.store.query(
      `update backups set state = 'ok', manifest = $2, size_bytes = $3, finished_at = now() where id = $1`,
      [id, JSON.stringify(manifest), manifest.size_bytes],
    );
  }

  async fail(id: string, error: string): Promise<void> {
    await this.store.query(`update backups set state = 'failed', error = $2, finished_at = now() where id = $1 and state = 'running'`, [id, error]);
  }

  async verified(id: string, ok: boolean, detail: { summary: string; lines: string[] }): Promise<void> {
    await this.store.query(`update backups set verified_at = now(), verify_ok = $2, verify_detail = $3 where id = $1`, [id, ok, JSON.stringify(detail)]);
  }

  async addCopy(id: string, copy: BackupCopy): Promise<void> {
    await this.store.query(`update backups set copies = copies || $2::jsonb where id = $1`, [id, JSON.stringify([copy])]);
  }

  async deleted(id: string): Promise<void> {
    await this.store.query(`update backups set state = 'deleted', deleted_at = now() where id = $1`, [id]);
  }

  async get(id: string): Promise<BackupRow | undefined> {
    return (await this.store.query<BackupRow>('select * from backups where id = $1', [id]))[0];
  }

  /** Backups not deleted, newest first; of one target when given. */
  async list(opts: { kind?: BackupRow['kind']; target?: string; limit?: number } = {}): Promise<BackupRow[]> {
    return this.store.query<BackupRow>(
      `select * from backups where state <> 'deleted' and ($1::text is null or kind = $1) and ($2::text is null or target = $2)
       order by started_at desc limit $3`,
      [opts.kind ?? null, opts.target ?? null, opts.limit ?? 1000],
    );
  }

  /** The newest complete backup (of a target, of a mode), for "latest". */
  async latest(opts: { kind?: BackupRow['kind']; target?: string; mode?: string } = {}): Promise<BackupRow | undefined> {
    return (await this.store.query<BackupRow>(
      `select * from backups where state = 'ok' and ($1::text is null or kind = $1) and ($2::text is null or target = $2) and ($3::text is null or mode = $3)
       order by started_at desc limit 1`,
      [opts.kind ?? null, opts.target ?? null, opts.mode ?? null],
    ))[0];
  }

  /** Rows still 'running' whose request is no longer running (the process died): they failed. */
  async failOrphans(): Promise<number> {
    const rows = await this.store.query(
      `update backups b set state = 'failed', error = 'interrupted', finished_at = now()
       where b.state = 'running' and not exists (select 1 from approval_requests r where r.id = b.request_id and r.state in ('approved', 'running'))
       returning id`,
    );
    return rows.length;
  }
}
