/**
 * Capacity planning (manual appendix A, 容量规划): scheduled /health runs keep samples, /capacity
 * fits them, and /health warns about what fills up soon.
 */
import type { CollectedRun } from '../checks/run.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { Queryable } from '../store/types.ts';
import { forecasts, type Forecast } from './forecast.ts';
import { samplesOf } from './samples.ts';
import { CapacityStore, type Sample } from './store.ts';

export { forecasts, soon, type Forecast } from './forecast.ts';

// /health reads forecasts on every run, a storm of them included; samples arrive once per
// scheduled run, so a minute-old forecast is as good as a fresh one.
const CACHE_MS = 60_000;

export class Capacity {
  readonly store: CapacityStore;
  private readonly recorded = new WeakSet<CollectedRun>();
  private cached?: { at: number; list: Promise<Forecast[]> };

  constructor(db: Queryable, private readonly config: Config, private readonly log: Logger) {
    this.store = new CapacityStore(db);
  }

  /**
   * Keeps one run's samples. Two schedules that share one run (at the same minute) store it once.
   * A failure is logged, never thrown: the health report matters more than one missing sample.
   */
  async record(run: CollectedRun): Promise<void> {
    if (this.recorded.has(run)) return;
    this.recorded.add(run);
    try {
      await this.keep(run.at, samplesOf(run));
    } catch (err) {
      this.log.warn({ err }, 'capacity samples not stored');
    }
  }

  /** Stores samples taken at `at` (one batch) and prunes past capacity.retention. */
  async keep(at: number, samples: readonly Sample[]): Promise<void> {
    await this.store.record(at, samples, this.config.capacity.retention);
    this.cached = undefined;
  }

  /** Every series' forecast as of `now`, fitted over capacity.window. */
  async forecasts(now = Date.now()): Promise<Forecast[]> {
    return forecasts(await this.store.since(now - this.config.capacity.window), this.config, now);
  }

  /** The same, reused for a minute: what /health reads. */
  recent(): Promise<Forecast[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > CACHE_MS) {
      const list = this.forecasts(now);
      this.cached = { at: now, list };
      list.catch(() => {
        if (this.cached?.list === list) this.cached = undefined;
      });
    }
    return this.cached.list;
  }
}

// Commands reach the bot's capacity store through its config, as /backup reaches its store.
const byConfig = new WeakMap<Config, Capacity>();

/** The capacity planner of the bot running with this config; undefined in setups without a state store. */
export function capacityFor(config: Config): Capacity | undefined {
  return byConfig.get(config);
}

export function createCapacity(deps: { store: Queryable; config: Config; log: Logger }): Capacity {
  const capacity = new Capacity(deps.store, deps.config, deps.log.child({ component: 'capacity' }));
  byConfig.set(deps.config, capacity);
  return capacity;
}
