/**
 * What /perf reads (manual §4.2 响应缓慢, 内存占用高): every host, Docker engine, database and
 * Redis at once, each bounded by its own timeout, so that one that does not answer is reported as
 * such and never holds up the others. Only figures here; src/perf/report.ts puts them in words.
 */
import { source, type Outcome } from '../core/source.ts';
import type { Config } from '../config/schema.ts';
import { TimeoutError } from '../core/timeout.ts';
import { readActivity, type ActivityRead } from '../db/activity.ts';
import { readSlow, type SlowRead } from '../db/slow.ts';
import { FACTS_MARK } from '../targets/templates.ts';
import { memoryUsage, outputOf, parseCores, parseLoadavg, parseMeminfo } from '../targets/host-parse.ts';
import type { ContainerInfo, ContainerStats, HostExecutor, MemoryUsage, PostgresExecutor, RedisHealth, Targets } from '../targets/types.ts';

export interface Proc {
  pid: number;
  /** ps's %CPU: CPU time over the process's lifetime (100 = one CPU). */
  cpu: number;
  /** Resident memory as a share of the host's, 0–100. */
  mem: number;
  rssBytes: number;
  user: string;
  command: string;
}

export interface HostPerf {
  memory: MemoryUsage;
  load: { one: number; five: number; fifteen: number };
  cores: number;
  byCpu: Proc[];
  byMem: Proc[];
}

export interface ContainerPerf {
  info: ContainerInfo;
  stats: ContainerStats | null;
  /** Set when this container's stats could not be read; the others still are. */
  error?: unknown;
}

export interface PgPerf {
  slow: SlowRead;
  activity: ActivityRead;
  /** Buffer cache hits over all block reads since the statistics were reset; null before any read. */
  hitRatio: number | null;
  blocksRead: number;
}

export type { Outcome };

export interface PerfRun {
  at: number;
  hosts: Array<Outcome<HostPerf>>;
  docker: Array<Outcome<ContainerPerf[]>>;
  postgres: Array<Outcome<PgPerf>>;
  redis: Array<Outcome<RedisHealth>>;
}


/** The perfFacts template's output, split back into its parts (marked like hostFacts'). */
function splitParts(text: string): Record<string, string> {
  const parts: Record<string, string> = {};
  let name = '';
  let start = 0;
  for (const m of text.matchAll(new RegExp(`^${FACTS_MARK}(\\w+)\\n`, 'gm'))) {
    if (name) parts[name] = text.slice(start, m.index);
    name = m[1];
    start = m.index! + m[0].length;
  }
  if (name) parts[name] = text.slice(start);
  return parts;
}

/** "  1234  98.5  2.1  51200 www-data python app.py" → a Proc; ps's header is off (`pid=`). */
export function parsePs(text: string): Proc[] {
  const out: Proc[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    out.push({ pid: Number(m[1]), cpu: Number(m[2]), mem: Number(m[3]), rssBytes: Number(m[4]) * 1024, user: m[5], command: m[6].trim() });
  }
  return out;
}

export async function hostPerf(host: HostExecutor, top: number, timeoutMs: number): Promise<HostPerf> {
  // The head of each ps list may hold its own `ps` and `head`: two more lines keep `top` others.
  const r = await host.run('perfFacts', [top + 2], { timeoutMs, maxBytes: 64 * 1024 });
  const parts = splitParts(outputOf(host.name, 'perfFacts', r));
  const need = (k: string) => {
    if (!parts[k]?.trim()) throw new Error(`no ${k} output from host ${host.name}`);
    return parts[k];
  };
  // The `ps` and `head` of the template itself are noise in its own list.
  const procs = (k: string) => parsePs(need(k)).filter((p) => !/^(ps -ww -eo |head -n )/.test(p.command)).slice(0, top);
  return {
    memory: memoryUsage(parseMeminfo(need('meminfo'))),
    load: parseLoadavg(need('loadavg')),
    cores: parseCores(need('nproc')),
    byCpu: procs('cpu'),
    byMem: procs('mem'),
  };
}

async function pgPerf(pg: PostgresExecutor, top: number): Promise<PgPerf> {
  const [slow, activity, [hit]] = await Promise.all([
    readSlow(pg, top, 'mean'),
    readActivity(pg),
    pg.query<{ hit: string; read: string }>(
      `select blks_hit::text as hit, blks_read::text as read from pg_stat_database where datname = current_database()`,
    ),
  ]);
  const hits = Number(hit?.hit ?? 0);
  const reads = Number(hit?.read ?? 0);
  return { slow, activity, hitRatio: hits + reads > 0 ? hits / (hits + reads) : null, blocksRead: reads };
}

/** Every running container's stats at once; one that fails is marked, the rest stand. */
async function dockerPerf(docker: Targets['docker'] extends Map<string, infer D> ? D : never): Promise<ContainerPerf[]> {
  const all = await docker.list();
  return Promise.all(all.map(async (info): Promise<ContainerPerf> => {
    if (info.state !== 'running') return { info, stats: null };
    try {
      return { info, stats: await docker.stats(info.id) };
    } catch (error) {
      return { info, stats: null, error };
    }
  }));
}

/** Reads every configured source in parallel; the report waits for the slowest, bounded by its timeout. */
export async function gatherPerf(targets: Targets, config: Config): Promise<PerfRun> {
  const own = config.perf.timeout;
  const { top } = config.perf;
  const tt = config.targets;
  const hosts = [...targets.hosts.values()].map((h) => {
    const ms = tt.hosts[h.name]?.timeout ?? own;
    return source(h.name, h.where, ms, () => hostPerf(h, top, ms));
  });
  // Stats wait for the engine's second sample: a second more than the target's own calls.
  const docker = [...targets.docker.values()].map((d) => source(d.name, d.where, (tt.docker[d.name]?.timeout ?? own) + 2000, () => dockerPerf(d)));
  const postgres = [...targets.postgres.values()].map((p) => source(p.name, p.where, tt.postgres[p.name]?.timeout ?? own, () => pgPerf(p, top)));
  const redis = [...targets.redis.values()].map((r) => source(r.name, r.where, tt.redis[r.name]?.timeout ?? own, () => r.health()));
  const [h, d, p, r] = await Promise.all([Promise.all(hosts), Promise.all(docker), Promise.all(postgres), Promise.all(redis)]);
  return { at: Date.now(), hosts: h, docker: d, postgres: p, redis: r };
}

export const timedOut = (err: unknown): err is TimeoutError => err instanceof TimeoutError;
