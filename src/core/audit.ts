import type { Queryable } from '../store/types.ts';
import type { Logger } from './log.ts';
import { redactDeep, redactText } from './redact.ts';

export interface AuditEvent {
  actor: string;
  channel?: string;
  command: string;
  args?: string;
  /** ok | warn | crit | invalid | denied | rate_limited | busy | error, and later approval steps. */
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

export interface AuditBatchOptions {
  /** A batch is written once it holds this many rows… */
  rows: number;
  /** …or this long after its first row arrived (ms). */
  intervalMs: number;
  /** Rows waiting at most; a caller beyond this waits for room (back-pressure, not growth). */
  maxBuffered: number;
  /** Rows that must be written before `record` resolves (destructive commands); the rest are batched. */
  writeAhead?: (e: AuditEvent) => boolean;
  log?: Logger;
}

const SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * PostgreSQL text (and jsonb) cannot hold NUL, and UTF-8 cannot hold a lone surrogate: either one
 * fails the whole insert. NUL becomes "␀" (visible, so the row still shows what was sent) and a lone
 * surrogate U+FFFD, so every invocation is audited whatever bytes it carries.
 */
export function storableText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u0000/g, '\u2400').replace(SURROGATE, '\uFFFD');
}

/** storableText over every string in a JSON value, keys included. */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
  }
  return value;
}

const COLUMNS = 7;

/** Longest argument text kept in a row; longer text is cut and its length noted. */
export const MAX_AUDIT_ARGS = 4000;

/** What a row keeps of a command's text: cut to MAX_AUDIT_ARGS. Secrets are removed by params(). */
export function auditArgs(text: string): string {
  return text.length > MAX_AUDIT_ARGS ? `${text.slice(0, MAX_AUDIT_ARGS)}… (${text.length} characters)` : text;
}

// Every row is redacted here, whoever wrote it: arguments and details (a break-glass reason, a
// plan summary) are free text from users and systems.
function params(e: AuditEvent): unknown[] {
  return [
    storableText(e.actor), e.channel === undefined ? null : storableText(e.channel), storableText(e.command), storableText(redactText(e.args ?? '')),
    storableText(e.outcome), e.ref === undefined ? null : storableText(e.ref), JSON.stringify(storableJson(redactDeep(e.detail ?? {}))),
  ];
}

function insertSql(rows: number): string {
  const values = Array.from({ length: rows }, (_, r) => `(${Array.from({ length: COLUMNS }, (_, c) => `$${r * COLUMNS + c + 1}`).join(', ')})`);
  return `insert into audit_events (actor, channel, command, args, outcome, ref, detail) values ${values.join(', ')}`;
}

/** What /security check reads of the audit over a window (manual §5.1 检查操作日志). */
export interface AuditWindow {
  /** Requests made with --break-glass, newest first (at most `limit`); `total` counts them all. */
  breakGlass: { rows: AuditRow[]; total: number };
  /** Refused invocations (no role, wrong channel), newest first. */
  denied: { rows: AuditRow[]; total: number };
  /** Approved destructive actions that started, with who asked for them. */
  destructive: Array<{ at: Date; command: string; id: string; requester: string; breakGlass: boolean }>;
}

/**
 * Append-only log of what was asked and what happened. `record` writes at once (write-ahead: the
 * caller learns whether the row exists); `enqueue` batches rows of read-only commands into one
 * multi-row insert. A failed batch is logged and retried, never dropped; `flush` writes what waits.
 */
export class AuditLog {
  private buffer: AuditEvent[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private failures = 0;
  private lastStart = 0;
  private roomWaiters: Array<() => void> = [];
  private readonly batch?: AuditBatchOptions;

  constructor(private readonly db: Queryable, batch?: AuditBatchOptions) {
    this.batch = batch;
  }

  /**
   * Writes a row. Without batching, or for a write-ahead row, it is in the table when this
   * resolves; otherwise it joins the next batch (see `enqueue`).
   */
  async record(e: AuditEvent): Promise<void> {
    if (this.batch && !this.batch.writeAhead?.(e)) return this.enqueue(e);
    await this.db.query(insertSql(1), params(e));
  }

  /**
   * Queues a row for the next batch; resolves once it is queued (or written, without batching).
   * When the buffer is full (the store is down or slow) it waits for room, so callers slow down.
   * A row is written at once when no insert ran in the last `intervalMs`, so a quiet bot's rows
   * are not delayed; under load rows gather into at most one insert per interval (or per `rows`).
   */
  async enqueue(e: AuditEvent): Promise<void> {
    const b = this.batch;
    if (!b) return this.record(e);
    while (this.buffer.length >= b.maxBuffered) await new Promise<void>((r) => this.roomWaiters.push(r));
    this.buffer.push(e);
    this.schedule();
  }

  /** Rows queued and not yet written. */
  get backlog(): number {
    return this.buffer.length;
  }

  /** Writes every queued row (shutdown, tests); retries until `deadlineMs`, then logs what is left. */
  async flush(deadlineMs = 10_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0 || this.writing) {
      if (this.writing) await this.writing;
      else await this.write();
      if (this.buffer.length && this.failures) {
        if (Date.now() >= until) {
          this.batch?.log?.error({ rows: this.buffer.length, events: this.buffer }, 'audit rows not written at shutdown');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, until - Date.now()))));
      }
    }
  }

  private schedule(): void {
    const b = this.batch!;
    if (this.writing || this.timer || !this.buffer.length) return; // the running write or timer picks these rows up
    const backoff = this.failures ? Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7)) : 0;
    const wait = this.buffer.length >= b.rows && !backoff ? 0 : Math.max(0, this.lastStart + Math.max(b.intervalMs, backoff) - Date.now());
    if (wait === 0) {
      void this.write();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.writing) void this.write();
    }, wait);
    this.timer.unref?.();
  }

  private write(): Promise<void> {
    const b = this.batch!;
    const rows = this.buffer.slice(0, b.rows);
    if (!rows.length) return Promise.resolve();
    this.lastStart = Date.now();
    this.writing = (async () => {
      try {
        await this.db.query(insertSql(rows.length), rows.flatMap(params));
        this.buffer.splice(0, rows.length);
        this.failures = 0;
        for (const wake of this.roomWaiters.splice(0, rows.length)) wake();
      } catch (err) {
        this.failures++;
        b.log?.error({ err: err instanceof Error ? err.message : String(err), rows: rows.length, attempt: this.failures }, 'audit batch failed; retrying');
      } finally {
        this.writing = undefined;
      }
      this.schedule();
    })();
    return this.writing;
  }

  async window(since: Date, limit = 50): Promise<AuditWindow> {
    const rows = (outcome: string) => this.db.query<AuditRow & { total: string }>(
      'select *, count(*) over ()::text as total from audit_events where at >= $1 and outcome = $2 order by id desc limit $3', [since, outcome, limit],
    );
    // A destructive action's "started" row is written by the runner; who asked is on the row that
    // created the request (same command, the request id as args), at most the approval TTL before.
    const destructive = this.db.query<{ at: Date; command: string; id: string; requester: string; kind: string }>(
      `select s.at, s.command, s.args as id, r.actor as requester, r.outcome as kind
         from audit_events s
         join audit_events r on r.args = s.args and r.command = s.command
          and r.outcome in ('approval.requested', 'approval.break_glass') and r.at >= $1::timestamptz - interval '8 days'
        where s.outcome = 'approval.started' and s.at >= $1
        order by s.id desc limit 2000`, [since],
    );
    const [bg, denied, started] = await Promise.all([rows('approval.break_glass'), rows('denied'), destructive]);
    const count = (r: Array<{ total: string }>) => Number(r[0]?.total ?? 0);
    return {
      breakGlass: { rows: bg, total: count(bg) },
      denied: { rows: denied, total: count(denied) },
      destructive: started.map((r) => ({ at: r.at, command: r.command, id: r.id, requester: r.requester, breakGlass: r.kind === 'approval.break_glass' })),
    };
  }

  async recent(opts: { limit?: number; actor?: string } = {}): Promise<AuditRow[]> {
    const limit = Math.min(Math.max(opts.limit ?? 20, 1), 500);
    return opts.actor
      ? this.db.query<AuditRow>('select * from audit_events where actor = $1 order by id desc limit $2', [opts.actor, limit])
      : this.db.query<AuditRow>('select * from audit_events order by id desc limit $1', [limit]);
  }
}
