/**
 * /perf's report: a verdict first (what most likely makes the site slow or memory-hungry, and the
 * command to run next), then the figures it rests on. Manual §4.2's steps in order: resources
 * (hosts, containers), the database's slow queries, then the cache.
 */
import { ms as fmtMs, pct } from '../checks/format.ts';
import type { Config } from '../config/schema.ts';
import { errorMessage, UserError, readerMessage } from '../core/errors.ts';
import { grade, STATUS_ICON, worst, type CheckLine, type Report, type Section, type Status } from '../core/report.ts';
import { TimeoutError } from '../core/timeout.ts';
import { columns, percent } from '../db/format.ts';
import { slowLines } from '../db/slow.ts';
import { oneLine } from '../db/target.ts';
import type { T } from '../i18n/index.ts';
import { limit } from '../targets/errors.ts';
import type { HostPerf, Outcome, PerfRun, Proc } from './gather.ts';

/** One thing that may explain the slowness, with the command that looks further. */
interface Finding {
  status: Status;
  /** Among findings of the same status, the lower comes first: locks and outages before load. */
  rank: number;
  text: string;
  next: string;
}

const RANK = { down: 0, locks: 1, memory: 2, cpu: 3, running: 4, slow: 5, hit: 6, redis: 7 } as const;
const ORDER: Record<Status, number> = { crit: 0, warn: 1, ok: 2, info: 3 };

/** What a failed source said, in the reader's language where it is ours. */
function failure(t: T, o: Extract<Outcome<unknown>, { ok: false }>): string {
  const err = o.error;
  if (err instanceof TimeoutError) return t('checks:timeout', limit(o.timeoutMs));
  if (err instanceof UserError) return err.localized(t);
  return errorMessage(err);
}

/** "--target main" when several targets of the kind are configured, so that the next command picks the right one. */
const targetFlag = (names: Record<string, unknown>, name: string) => (Object.keys(names).length > 1 ? ` --target ${name}` : '');

/** The configured service whose container this is, for /diagnose. */
function serviceOf(config: Config, container: string): string | undefined {
  return Object.entries(config.services).find(([, s]) => s.container === container)?.[0];
}

const procLine = (p: Proc) => oneLine(p.command, 80);

function hostSections(t: T, name: string, where: string, f: HostPerf): Section[] {
  const head = [t('perf:host.pid'), t('perf:host.cpu'), t('perf:host.mem'), t('perf:host.rss'), t('perf:host.user'), t('perf:host.command')];
  const rows = (list: Proc[]) => columns([head, ...list.map((p) => [String(p.pid), pct(t, p.cpu), pct(t, p.mem), t.bytes(p.rssBytes), p.user, procLine(p)])], [0, 1, 2, 3]);
  const title = t('perf:host.by_cpu', {
    name, where, one: t.number(f.load.one, { minimumFractionDigits: 2, maximumFractionDigits: 2 }), count: f.cores,
    percent: pct(t, f.memory.usedPercent), used: f.memory.used, total: f.memory.total,
  });
  return [
    { title, lines: rows(f.byCpu), code: true },
    { title: t('perf:host.by_mem', { name }), lines: rows(f.byMem), code: true },
  ];
}

export function perfReport(t: T, config: Config, run: PerfRun, took: number): Report {
  const th = config.perf.thresholds;
  const hth = config.health.thresholds;
  const findings: Finding[] = [];
  const checks: CheckLine[] = [];
  const sections: Section[] = [];
  const add = (f: Finding) => f.status !== 'ok' && findings.push(f);
  const down = (kind: string, o: Extract<Outcome<unknown>, { ok: false }>, next: string) => {
    const reason = failure(t, o);
    const label = t(`perf:label.${kind}`, { name: o.name });
    // An error that is already about reaching the target says so itself (as in /health).
    const said = (o.error instanceof UserError && o.error.message.startsWith('unreachable')) || (o.error as Error)?.name === 'HostKeyMismatchError';
    checks.push({ name: label, status: 'crit', text: said ? reason : t('checks:unreachable', { reason }) });
    findings.push({ status: 'crit', rank: RANK.down, text: t('perf:verdict.down', { label, reason }), next });
  };

  // 1. System resources (§4.2 排查步骤 1; 内存占用高 1: ps aux --sort=-%mem).
  for (const o of run.hosts) {
    if (!o.ok) {
      down('host', o, '/health host');
      continue;
    }
    const f = o.facts;
    const label = t('perf:label.host', { name: o.name });
    const memStatus = grade(f.memory.usedPercent, hth.memory_percent);
    const perCore = f.load.one / Math.max(1, f.cores);
    const loadStatus = grade(perCore, hth.load_per_core);
    const topMem = f.byMem[0];
    const topCpu = f.byCpu[0];
    checks.push({ name: label, status: worst([memStatus, loadStatus]), text: t('perf:host.check', { percent: pct(t, f.memory.usedPercent), one: t.number(f.load.one, { maximumFractionDigits: 2 }), count: f.cores }) });
    if (topMem) {
      add({
        status: worst([memStatus, grade(topMem.mem, th.process_memory_percent)]), rank: RANK.memory, next: '/health host',
        text: t('perf:verdict.host_memory', { host: o.name, percent: pct(t, f.memory.usedPercent), pid: topMem.pid, command: oneLine(topMem.command, 60), share: pct(t, topMem.mem), rss: t.bytes(topMem.rssBytes) }),
      });
    }
    if (topCpu) {
      add({
        status: worst([loadStatus, grade(topCpu.cpu, th.process_cpu_percent)]), rank: RANK.cpu, next: '/health host',
        text: t('perf:verdict.host_cpu', { host: o.name, one: t.number(f.load.one, { maximumFractionDigits: 2 }), count: f.cores, pid: topCpu.pid, command: oneLine(topCpu.command, 60), cpu: pct(t, topCpu.cpu) }),
      });
    }
    sections.push(...hostSections(t, o.name, o.where, f));
  }

  for (const o of run.docker) {
    if (!o.ok) {
      down('docker', o, '/health containers');
      continue;
    }
    const running = o.facts.filter((c) => c.info.state === 'running');
    const rows: string[][] = [[t('perf:docker.container'), t('perf:docker.cpu'), t('perf:docker.mem'), t('perf:docker.limit'), t('perf:docker.share')]];
    const sorted = [...running].sort((a, b) => (b.stats?.cpuPercent ?? -1) - (a.stats?.cpuPercent ?? -1));
    const notes: string[] = [];
    for (const c of sorted) {
      if (!c.stats) {
        notes.push(t('perf:docker.no_stats', { name: c.info.name, reason: c.error ? readerMessage(t, c.error) : t('perf:docker.not_running') }));
        continue;
      }
      const s = c.stats;
      const share = s.memoryLimitBytes > 0 ? (s.memoryBytes / s.memoryLimitBytes) * 100 : 0;
      rows.push([c.info.name, s.cpuPercent === null ? '—' : pct(t, s.cpuPercent), t.bytes(s.memoryBytes), s.memoryLimitBytes ? t.bytes(s.memoryLimitBytes) : '—', pct(t, share)]);
      const svc = serviceOf(config, c.info.name);
      const next = svc ? `/diagnose ${svc}` : '/health containers';
      if (s.cpuPercent !== null) {
        add({ status: grade(s.cpuPercent, th.container_cpu_percent), rank: RANK.cpu, next, text: t('perf:verdict.container_cpu', { name: c.info.name, cpu: pct(t, s.cpuPercent) }) });
      }
      add({ status: grade(share, th.container_memory_percent), rank: RANK.memory, next, text: t('perf:verdict.container_memory', { name: c.info.name, used: t.bytes(s.memoryBytes), limit: t.bytes(s.memoryLimitBytes), share: pct(t, share) }) });
    }
    const label = t('perf:label.docker', { name: o.name });
    checks.push({ name: label, status: 'info', text: t('perf:docker.check', { count: running.length, all: o.facts.length }) });
    sections.push({ title: t('perf:docker.title', { name: o.name, where: o.where }), lines: running.length ? columns(rows, [1, 2, 3, 4]) : [t('perf:docker.none')], code: running.length > 0 });
    if (notes.length) sections.push({ title: t('perf:docker.notes', { name: o.name }), lines: notes });
  }

  // 2. The database's slow queries (§4.2 排查步骤 2).
  for (const o of run.postgres) {
    const target = targetFlag(config.targets.postgres, o.name);
    if (!o.ok) {
      down('postgres', o, '/health postgres');
      continue;
    }
    const { activity: a, slow, hitRatio } = o.facts;
    const label = t('perf:label.postgres', { name: o.name });
    const hit = hitRatio === null ? '—' : percent(t, hitRatio);
    checks.push({
      name: label,
      status: a.blocked.length ? 'warn' : 'ok',
      text: t('perf:pg.check', { hit, running: a.longest.length, blocked: a.blocked.length }),
    });
    if (hitRatio !== null) {
      // Lower is worse: graded on the miss ratio against the thresholds turned round.
      const hitStatus = grade(100 - hitRatio * 100, { warn: 100 - th.cache_hit_percent.warn, crit: 100 - th.cache_hit_percent.crit });
      add({ status: hitStatus, rank: RANK.hit, next: `/db sizes${target}`, text: t('perf:verdict.cache_hit', { name: o.name, hit, reads: t.number(o.facts.blocksRead) }) });
    }
    if (a.blocked.length) {
      const roots = a.blockerPids.filter((p) => !a.blocked.some((b) => b.pid === p));
      const waited = Math.max(...a.blocked.map((b) => b.query_ms ?? 0));
      add({
        status: grade(waited, th.query_running) === 'crit' ? 'crit' : 'warn', rank: RANK.locks, next: `/db activity${target}`,
        text: t('perf:verdict.locks', { name: o.name, count: a.blocked.length, pids: (roots.length ? roots : a.blockerPids).join(', '), ms: t.duration(waited) }),
      });
    }
    const longest = a.longest[0];
    if (longest) {
      add({
        status: grade(longest.query_ms ?? 0, th.query_running), rank: RANK.running, next: `/db activity${target}`,
        text: t('perf:verdict.running', { name: o.name, pid: longest.pid, ms: t.duration(longest.query_ms ?? 0), query: oneLine(longest.query, 80) }),
      });
    }
    const who = (s: (typeof a.longest)[number]) => t('db:activity.who', { pid: s.pid, user: s.user ?? '?', app: s.app ?? '-' });
    const lines = [
      t('perf:pg.hit', { hit, reads: t.number(o.facts.blocksRead) }),
      ...(a.longest.length
        ? a.longest.slice(0, config.perf.top).map((s) => t('db:activity.longest_line', { who: who(s), ms: t.duration(s.query_ms ?? 0), wait: s.wait ?? '-', query: oneLine(s.query, 160) }))
        : [t('db:activity.longest_none')]),
      ...a.blocked.flatMap((b) => [
        t('db:activity.blocked_line', { who: who(b), ms: t.duration(b.query_ms ?? 0), wait: b.wait ?? '-', query: oneLine(b.query, 120) }),
        ...b.blockers.map((p) => {
          const s = a.byPid.get(p);
          return s ? `    ${t('db:activity.blocker_line', { who: who(s), state: s.state ?? '?', tx: t.duration(s.xact_ms ?? 0), query: oneLine(s.query, 120) })}` : `    ${t('db:activity.blocker_gone', { pid: p })}`;
        }),
      ]),
    ];
    sections.push({ title: t('perf:pg.title', { name: o.name, where: o.where }), lines });
    if (slow.ok) {
      const top = slow.rows[0];
      if (top) {
        add({
          status: grade(top.mean_ms, th.query_mean), rank: RANK.slow, next: `/db slow${target}`,
          text: t('perf:verdict.slow', { name: o.name, mean: t.duration(top.mean_ms), calls: t.number(Number(top.calls)), query: oneLine(top.query, 80) }),
        });
      }
      sections.push({ title: t('perf:pg.slow_title', { name: o.name, count: slow.rows.length }), lines: slow.rows.length ? slowLines(t, slow.rows) : [t('db:slow.none', { database: slow.srv.database })], code: slow.rows.length > 0 });
    } else {
      sections.push({ title: t('perf:pg.slow_title', { name: o.name, count: 0 }), lines: [t(slow.created ? 'db:slow.not_loaded' : 'db:slow.missing', { database: slow.srv.database }), t('perf:pg.slow_how', { command: `/db slow${target}` })] });
    }
  }

  // 3. The cache (内存占用高 3: 检查缓存配置).
  for (const o of run.redis) {
    if (!o.ok) {
      down('redis', o, '/health redis');
      continue;
    }
    const h = o.facts;
    const limited = h.maxMemoryBytes > 0;
    const memPct = limited ? (h.usedMemoryBytes / h.maxMemoryBytes) * 100 : 0;
    const label = t('perf:label.redis', { name: o.name });
    const latency = fmtMs(t, h.latencyMs);
    const memory = limited ? t('checks:redis.memory_limited', { used: h.usedMemoryHuman, max: h.maxMemoryHuman, percent: pct(t, memPct) }) : t('checks:redis.memory_unlimited', { used: h.usedMemoryHuman });
    const statuses = [grade(h.latencyMs, hth.latency_ms), limited ? grade(memPct, hth.redis_memory_percent) : 'ok' as Status, grade(h.evictedKeys, hth.redis_evicted_keys)];
    checks.push({ name: label, status: worst(statuses), text: t('perf:redis.check', { latency, memory, evicted: h.evictedKeys }) });
    add({ status: statuses[0], rank: RANK.redis, next: '/cache info', text: t('perf:verdict.redis_latency', { name: o.name, latency }) });
    add({ status: statuses[1], rank: RANK.memory, next: '/cache info', text: t('perf:verdict.redis_memory', { name: o.name, memory }) });
    add({ status: statuses[2], rank: RANK.redis, next: '/cache info', text: t('perf:verdict.redis_evicted', { name: o.name, count: h.evictedKeys }) });
    sections.push({ title: t('perf:redis.title', { name: o.name, where: o.where }), lines: [t('perf:redis.line', { latency, memory, evicted: h.evictedKeys, clients: h.connectedClients })] });
  }

  findings.sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.rank - b.rank);
  const first = findings[0];
  const status: Status = first ? first.status : checks.length ? 'ok' : 'info';
  const summary = !checks.length ? t('perf:verdict.no_targets')
    : first
      ? [
          t('perf:verdict.likely', { icon: STATUS_ICON[first.status], cause: first.text, next: first.next }),
          ...(findings.length > 1 ? [t('perf:verdict.also', { items: findings.slice(1, 4).map((f) => f.text), count: findings.length - 1 })] : []),
        ].join('\n')
      : t('perf:verdict.clear', { icon: STATUS_ICON.ok });
  return {
    title: t('perf:title'),
    status,
    summary,
    checks,
    sections,
    footer: t('perf:footer', { took: t.duration(took), count: checks.length }),
  };
}
