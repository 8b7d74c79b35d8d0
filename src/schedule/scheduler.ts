import { randomBytes } from 'node:crypto';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Queryable } from '../store/types.ts';
import { FireStore, type FireKind, type FireRow } from './store.ts';
import { timing, type Timing, type When } from './timing.ts';

/**
 * The scheduler: one small API for everything that runs on a calendar (config schedules,
 * incident reminders, retention, archiving).
 *
 *   const handle = scheduler.schedule('retention', '0 3 * * *', async (fire) => { …; return 'ok'; }, { channel: 'C0OPS' });
 *   scheduler.schedule('inc-42-reminder', new Date(due), remind, { catchUp: 10 * 60_000 });
 *   scheduler.schedule('heartbeat', 30_000, beat);   // every 30 s, aligned to the epoch
 *   handle.cancel();
 *
 * - `when`: a cron pattern (5 fields, or 6 with seconds first) read in config `timezone`; a
 *   number of milliseconds (repeats, at multiples of it since the epoch, so replicas agree); or a
 *   Date (once). A delay must be turned into a Date once, by whoever stores it: "now + 30 min"
 *   computed by each replica would name two different fires.
 * - Exactly once across replicas: before a fire runs, (name, fire time) is inserted into
 *   `schedule_fires` under its primary key; only the replica whose insert wins runs it.
 * - Catch-up: at start (or when a schedule is added later), the latest fire that fell due while no
 *   replica was running runs once if it is at most `catchUp` old (default 1 h), else it is
 *   reported as missed in `channel`. That decision is claimed the same way, so replicas starting
 *   together act on it once.
 * - The job's return value (a short outcome word, e.g. 'ok', 'warn', 'denied') is kept with the
 *   fire and shown by `/schedule list`; a throw is kept as 'error'. Names are global: pick ones
 *   that cannot clash (`incident-42-reminder`, not `reminder`).
 */
export interface Fire {
  name: string;
  /** The calendar instant this fire is for; for a manual run, when it was asked for. */
  at: Date;
  kind: FireKind;
  /** Who asked, for a manual run. */
  by?: string;
}

export type Job = (fire: Fire) => Promise<string | void>;

export interface ScheduleOptions {
  /** How old a fire missed while every replica was down may be and still run at start (ms). Default 1 h; 0: never. */
  catchUp?: number;
  /** Channel told about a missed fire (and shown by /schedule list). Without one it is only logged. */
  channel?: string;
  /** What it runs, as /schedule list shows it (a config schedule's command line). */
  label?: string;
  /** Listed, but never fired (config `enabled: false`). */
  enabled?: boolean;
}

export interface ScheduleHandle {
  /** No further fires from this process (a fire already running finishes). */
  cancel(): void;
}

export interface ScheduleInfo {
  name: string;
  label?: string;
  channel?: string;
  enabled: boolean;
  next: Date | null;
  /** The most recent claim in the store, from any replica. */
  last?: FireRow;
}

/** Told about a fire that was missed and will not run (posted in the schedule's channel). */
export type MissedNotice = (info: { name: string; at: Date; channel: string; next: Date | null }) => Promise<void>;

export interface SchedulerDeps {
  store: Queryable;
  timeZone: string;
  log: Logger;
  missed?: MissedNotice;
  /** The clock; tests move it. */
  now?: () => number;
}

export const DEFAULT_CATCH_UP = 3_600_000;
// setTimeout treats longer delays as 1 ms; a far fire is approached in steps of this.
const MAX_DELAY = 2 ** 31 - 1;

interface Entry {
  name: string;
  timing: Timing;
  job: Job;
  opts: ScheduleOptions;
  timer?: NodeJS.Timeout;
  next: Date | null;
  cancelled: boolean;
}

export class Scheduler {
  /** Names this process in `schedule_fires.claimed_by`. */
  readonly id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly fires: FireStore;
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.fires = new FireStore(deps.store);
    this.now = deps.now ?? Date.now;
  }

  /** Adds a schedule (see the comment above). Before start() it waits; after, it starts at once. */
  schedule(name: string, when: When, job: Job, opts: ScheduleOptions = {}): ScheduleHandle {
    if (this.entries.has(name)) throw new Error(`schedule "${name}" is already registered`);
    const entry: Entry = { name, timing: timing(when, this.deps.timeZone), job, opts, next: null, cancelled: false };
    this.entries.set(name, entry);
    if (this.started && !this.stopped) this.track(this.begin(entry));
    return { cancel: () => this.cancel(name) };
  }

  cancel(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.cancelled = true;
    clearTimeout(entry.timer);
    this.entries.delete(name);
  }

  /** Catch-up for every schedule, then their timers. Resolves once catch-up decisions are made. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all([...this.entries.values()].map((e) => this.begin(e)));
  }

  /** No new fires; resolves when those already running have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Runs a schedule now (`/schedule run`), whatever its calendar; claimed and kept like a fire. */
  async runNow(name: string, by: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (!entry) return false;
    this.track(this.fire(entry, new Date(this.now()), 'manual', by));
    return true;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  async list(): Promise<ScheduleInfo[]> {
    const latest = await this.fires.latest();
    const now = new Date(this.now());
    return [...this.entries.values()].map((e) => ({
      name: e.name, label: e.opts.label, channel: e.opts.channel, enabled: e.opts.enabled !== false,
      next: e.opts.enabled === false ? null : (e.next ?? e.timing.next(now)), last: latest.get(e.name),
    }));
  }

  private async begin(entry: Entry): Promise<void> {
    if (entry.opts.enabled === false) return;
    const now = new Date(this.now());
    try {
      await this.catchUp(entry, now);
    } catch (err) {
      this.deps.log.error({ schedule: entry.name, err: errorMessage(err) }, 'schedule catch-up failed');
    }
    // From `now`, not a fresh clock: a fire that fell due during catch-up is still armed.
    if (!entry.cancelled && !this.stopped) this.arm(entry, now);
  }

  /** The latest fire due while nobody ran it: run once if recent enough, else report it missed. */
  private async catchUp(entry: Entry, now: Date): Promise<void> {
    const since = await this.fires.register(entry.name, entry.timing.signature, now);
    const last = await this.fires.lastDue(entry.name);
    const from = last && last > since ? last : since;
    const missed = entry.timing.previous(now);
    if (!missed || missed <= from) return;
    const catchUp = entry.opts.catchUp ?? DEFAULT_CATCH_UP;
    if (now.getTime() - missed.getTime() <= catchUp) {
      this.deps.log.info({ schedule: entry.name, at: missed.toISOString() }, 'running a fire missed while down');
      await this.fire(entry, missed, 'catch_up');
      return;
    }
    if (!(await this.fires.claim(entry.name, missed, 'missed', this.id))) return;
    this.deps.log.warn({ schedule: entry.name, at: missed.toISOString() }, 'schedule fire missed while down, beyond catch_up');
    const channel = entry.opts.channel;
    if (channel && this.deps.missed) {
      await this.deps.missed({ name: entry.name, at: missed, channel, next: entry.timing.next(now) })
        .catch((err: unknown) => this.deps.log.error({ schedule: entry.name, err: errorMessage(err) }, 'missed-fire notice failed'));
    }
    await this.fires.finish(entry.name, missed, 'missed');
  }

  private arm(entry: Entry, after: Date): void {
    const next = entry.timing.next(after);
    entry.next = next;
    if (!next) return;
    const wait = Math.min(Math.max(0, next.getTime() - this.now()), MAX_DELAY);
    entry.timer = setTimeout(() => {
      if (entry.cancelled || this.stopped) return;
      // A long wait is covered in steps, and a timer may wake a little early: not due yet, wait again.
      if (this.now() < next.getTime()) return this.arm(entry, new Date(next.getTime() - 1));
      this.track(this.fire(entry, next, 'fire'));
      this.arm(entry, next);
    }, wait);
    // Pending schedules never keep the process alive (the console exits at end of input).
    entry.timer.unref();
  }

  /** Claims the fire; the winner runs the job and records its outcome. */
  private async fire(entry: Entry, at: Date, kind: FireKind, by?: string): Promise<void> {
    const log = this.deps.log;
    try {
      if (!(await this.fires.claim(entry.name, at, kind, this.id))) return;
    } catch (err) {
      log.error({ schedule: entry.name, at: at.toISOString(), err: errorMessage(err) }, 'could not claim a schedule fire; it does not run');
      return;
    }
    let outcome = 'ok';
    try {
      outcome = (await entry.job({ name: entry.name, at, kind, by })) || 'ok';
    } catch (err) {
      outcome = 'error';
      log.error({ schedule: entry.name, at: at.toISOString(), err: errorMessage(err) }, 'schedule job failed');
    }
    await this.fires.finish(entry.name, at, outcome).catch((err: unknown) => log.error({ schedule: entry.name, err: errorMessage(err) }, 'could not record a schedule outcome'));
  }

  private track(p: Promise<unknown>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }
}
