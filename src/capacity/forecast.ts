import type { Config } from '../config/schema.ts';
import { DAY_MS, fitLine, reach, type Fit, type Point, type Reach } from './fit.ts';
import type { SampleKind, StoredSample } from './store.ts';

/** One series' outlook: plain data, put in words by render.ts for each reader. */
export interface Forecast {
  kind: SampleKind;
  target: string;
  /** The mount, or the database's name; '' for Redis. */
  item: string;
  /** What the fitted values are: a share of a whole, or a size. */
  unit: 'percent' | 'bytes';
  samples: number;
  spanDays: number;
  /** Undefined when there are too few samples or too short a span to say anything. */
  fit?: Fit;
  /**
   * The critical threshold this series is set against, in its unit (a database's: the size at
   * which its disk reaches the disk threshold); undefined when there is none to compare with.
   */
  limit?: number;
  /** The threshold as configured (percent), for the words "reaches 90%". */
  limitPercent?: number;
  /** A database's disk (capacity.databases), and whether any sample of it was found. */
  disk?: { host: string; mount: string; sampled: boolean };
  /** Undefined when there is no fit or no limit. */
  reach?: Reach;
}

const key = (s: { kind: string; target: string; item: string }) => `${s.kind}\u0000${s.target}\u0000${s.item}`;

function group(samples: readonly StoredSample[]): Map<string, StoredSample[]> {
  const series = new Map<string, StoredSample[]>();
  for (const s of samples) {
    const k = key(s);
    let list = series.get(k);
    if (!list) series.set(k, (list = []));
    list.push(s);
  }
  return series;
}

/**
 * A fit of the points, when they are enough to believe: capacity.min_samples over at least
 * capacity.min_span. Fewer would give a date from noise.
 */
function enough(points: Point[], config: Config): Fit | undefined {
  const c = config.capacity;
  if (points.length < c.min_samples) return undefined;
  const fit = fitLine(points);
  return fit && fit.spanDays * DAY_MS >= c.min_span ? fit : undefined;
}

/** The forecasts of every series sampled within capacity.window before `now`, in a stable order. */
export function forecasts(samples: readonly StoredSample[], config: Config, now: number): Forecast[] {
  const th = config.health.thresholds;
  const series = group(samples);
  const out: Forecast[] = [];
  for (const list of series.values()) {
    const { kind, target, item } = list[0];
    const span = (list.at(-1)!.at - list[0].at) / DAY_MS;
    if (kind === 'disk') {
      const points = list.map((s) => ({ at: s.at, value: s.value }));
      const fit = enough(points, config);
      const limit = th.disk_percent.crit;
      out.push({ kind, target, item, unit: 'percent', samples: list.length, spanDays: span, fit, limit, limitPercent: limit, reach: fit && reach(fit, limit, now) });
    } else if (kind === 'redis') {
      // With maxmemory set (on the latest sample), the share of it is what eviction and the
      // threshold are about; samples from before a limit was set are left out of that fit.
      const limited = list.at(-1)!.total;
      const used = limited ? list.filter((s) => s.total) : list;
      const points = used.map((s) => ({ at: s.at, value: limited ? (s.value / s.total!) * 100 : s.value }));
      const fit = enough(points, config);
      const limit = limited ? th.redis_memory_percent.crit : undefined;
      out.push({
        kind, target, item, unit: limited ? 'percent' : 'bytes', samples: used.length, spanDays: span, fit, limit, limitPercent: limit,
        reach: fit && limit !== undefined ? reach(fit, limit, now) : undefined,
      });
    } else {
      const points = list.map((s) => ({ at: s.at, value: s.value }));
      const fit = enough(points, config);
      const where = config.capacity.databases[target];
      const f: Forecast = { kind, target, item, unit: 'bytes', samples: list.length, spanDays: span, fit };
      if (where) {
        // The disk's space left below its critical share, as of its last sample: the database
        // reaches the limit when it has grown by that much.
        const disk = series.get(key({ kind: 'disk', target: where.host, item: where.mount }))?.at(-1);
        f.disk = { host: where.host, mount: where.mount, sampled: !!disk?.total };
        f.limitPercent = th.disk_percent.crit;
        if (disk?.total && fit) {
          const headroom = ((th.disk_percent.crit - disk.value) / 100) * disk.total;
          f.limit = fit.latest + headroom;
          f.reach = reach(fit, f.limit, now);
        }
      }
      out.push(f);
    }
  }
  const order: Record<SampleKind, number> = { disk: 0, database: 1, redis: 2 };
  return out.sort((a, b) => order[a.kind] - order[b.kind] || a.target.localeCompare(b.target) || a.item.localeCompare(b.item));
}

/**
 * Forecasts that reach their threshold within `withinMs`: what /health warns about. One already
 * past it is left out, as /health's own check of that disk or Redis already grades it.
 */
export function soon(list: readonly Forecast[], withinMs: number): Forecast[] {
  return list.filter((f) => f.reach?.kind === 'days' && f.reach.days * DAY_MS < withinMs);
}
