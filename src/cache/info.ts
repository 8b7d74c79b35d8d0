import { pct } from '../checks/format.ts';
import type { CheckLine, Report, Section, Status } from '../core/report.ts';
import { worst } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { RedisExecutor, RedisInspection } from '../targets/types.ts';

/** Manual §3.2's redis.conf, as CONFIG GET prints it. */
export const MANUAL = { maxmemory: '2gb', policy: 'allkeys-lru', save: '900 1 300 10 60 10000' };

/** Celery's queue as found in the target's own database, for the eviction warning. */
export interface CeleryQueue {
  key: string;
  type: string;
  length: number;
}

/** "900 1 300 10 60 10000" as a set of (seconds, changes) pairs, so order does not matter. */
const savePairs = (save: string) => {
  const n = save.trim().split(/\s+/).filter(Boolean);
  const pairs: string[] = [];
  for (let i = 0; i + 1 < n.length; i += 2) pairs.push(`${Number(n[i])} ${Number(n[i + 1])}`);
  return pairs.sort().join(',');
};

/**
 * §3.2's three settings against the server's: ✅ where it follows the manual, ⚠️ where it does
 * not, each with the value found. maxmemory and the policy come from INFO, which any client may
 * read; `save` needs CONFIG, which hardened servers rename away, and is then "not readable".
 */
export function advice(t: T, insp: RedisInspection, celery?: CeleryQueue): CheckLine[] {
  const { info, config } = insp;
  const max = Number(config?.maxmemory ?? info.maxmemory ?? 0);
  const policy = config?.['maxmemory-policy'] ?? info.maxmemory_policy ?? '?';
  const lines: CheckLine[] = [
    max > 0
      ? { name: 'maxmemory', status: 'ok', text: t('cache:advice.maxmemory_ok', { value: t.bytes(max), manual: MANUAL.maxmemory }) }
      : { name: 'maxmemory', status: 'warn', text: t('cache:advice.maxmemory_unset', { manual: MANUAL.maxmemory }) },
    policy === MANUAL.policy
      ? { name: 'maxmemory-policy', status: 'ok', text: policy }
      : { name: 'maxmemory-policy', status: 'warn', text: t('cache:advice.policy_other', { value: policy, manual: MANUAL.policy }) },
  ];
  const save = config?.save;
  if (save === undefined) lines.push({ name: 'save', status: 'warn', text: t('cache:advice.save_unreadable', { reason: insp.configError ?? '?' }) });
  else if (!save.trim()) lines.push({ name: 'save', status: 'warn', text: t('cache:advice.save_off', { manual: MANUAL.save }) });
  else if (savePairs(save) === savePairs(MANUAL.save)) lines.push({ name: 'save', status: 'ok', text: save });
  else lines.push({ name: 'save', status: 'warn', text: t('cache:advice.save_other', { value: save, manual: MANUAL.save }) });
  // The manual's policy is for a Redis that only caches. With Celery's queue in it, an
  // allkeys-* policy may evict the queue itself under memory pressure.
  if (celery && celery.type === 'list' && policy.startsWith('allkeys')) {
    lines.push({ name: 'celery', status: 'warn', text: t('cache:advice.celery_evictable', { key: celery.key, policy, length: celery.length }) });
  }
  return lines;
}

const num = (v: string | undefined) => Number(v ?? 0);

/** db0:keys=1,expires=0,avg_ttl=0 → one line per database. */
function keyspace(t: T, info: Record<string, string>): string[] {
  const dbs = Object.keys(info).filter((k) => /^db\d+$/.test(k)).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
  if (!dbs.length) return [t('cache:info.keys_none')];
  return dbs.map((db) => {
    const f = Object.fromEntries(info[db].split(',').map((kv) => kv.split('=')));
    const params = { db: db.slice(2), keys: num(f.keys), expires: num(f.expires), ms: num(f.avg_ttl) };
    return t(params.ms > 0 ? 'cache:info.keys_db_ttl' : 'cache:info.keys_db', params);
  });
}

function persistence(t: T, info: Record<string, string>): { lines: string[]; status: Status } {
  const lines: string[] = [];
  let status: Status = 'ok';
  const last = num(info.rdb_last_save_time) * 1000;
  const bgsave = info.rdb_last_bgsave_status ?? '?';
  if (bgsave !== 'ok') status = 'crit';
  lines.push(t('cache:info.rdb', { at: last, age: Date.now() - last, status: bgsave, changes: num(info.rdb_changes_since_last_save) }));
  if (info.rdb_bgsave_in_progress === '1') lines.push(t('cache:info.rdb_running'));
  if (info.aof_enabled === '1') {
    const write = info.aof_last_write_status ?? '?';
    if (write !== 'ok') status = 'crit';
    lines.push(t('cache:info.aof_on', { status: write, rewrite: info.aof_last_bgrewrite_status ?? '?' }));
  } else lines.push(t('cache:info.aof_off'));
  return { lines, status };
}

/** /cache info: memory, keys, hits, clients and persistence, headed by §3.2's advice. */
export function infoReport(t: T, redis: RedisExecutor, insp: RedisInspection, celery?: CeleryQueue): Report {
  const { info } = insp;
  const checks = advice(t, insp, celery);
  const hits = num(info.keyspace_hits);
  const misses = num(info.keyspace_misses);
  const ratio = hits + misses > 0 ? pct(t, (hits / (hits + misses)) * 100) : '—';
  const max = num(info.maxmemory);
  const policy = info.maxmemory_policy ?? '?';
  const frag = info.mem_fragmentation_ratio ?? '?';
  const memory = [
    t('cache:info.used', { used: info.used_memory_human ?? '?', peak: info.used_memory_peak_human ?? '?', rss: info.used_memory_rss_human ?? '?' }),
    max > 0 ? t('cache:info.max', { max: info.maxmemory_human ?? t.bytes(max), policy }) : t('cache:info.max_none', { policy }),
    t('cache:info.fragmentation', { ratio: frag }),
  ];
  const keys = [
    ...keyspace(t, info),
    t('cache:info.expired', { n: num(info.expired_keys) }),
    t('cache:info.evicted', { n: num(info.evicted_keys) }),
  ];
  const lookups = hits + misses > 0 ? t('cache:info.hits', { hits, misses, ratio }) : t('cache:info.hits_none');
  const blocked = num(info.blocked_clients);
  const clients = [t('cache:info.clients', { connected: num(info.connected_clients), blocked })];
  if (blocked > 0) clients.push(t('cache:info.blocked_note'));
  const persisted = persistence(t, info);
  const sections: Section[] = [
    { title: t('cache:info.memory_title'), lines: memory },
    { title: t('cache:info.keys_title'), lines: keys },
    { title: t('cache:info.hits_title'), lines: [lookups] },
    { title: t('cache:info.clients_title'), lines: clients },
    { title: t('cache:info.persistence_title'), lines: persisted.lines },
  ];
  if (info.role === 'slave') {
    sections.unshift({ title: t('cache:info.replica_title'), lines: [t('cache:info.replica', { host: info.master_host ?? '?', port: info.master_port ?? '?', link: info.master_link_status ?? '?' })] });
  }
  const dbKeys = Object.keys(info).filter((k) => /^db\d+$/.test(k)).reduce((n, db) => n + num(/keys=(\d+)/.exec(info[db])?.[1]), 0);
  return {
    title: t('cache:info.title', { name: redis.name, where: redis.where }),
    status: worst([...checks.map((c) => c.status), persisted.status]),
    summary: t('cache:info.summary', {
      version: info.redis_version ?? '?', role: info.role ?? '?', uptime: num(info.uptime_in_seconds) * 1000,
      used: info.used_memory_human ?? '?', keys: dbKeys, ratio,
    }),
    checks,
    sections,
  };
}
