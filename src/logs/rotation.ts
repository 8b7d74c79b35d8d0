/**
 * /logs rotation: each service's logs held against the manual's §1.2 (10 MB, 5 kept, compressed),
 * from what is really on disk (sizes of the live log and its rotated files), the host's logrotate
 * rule when it can be read, and for containers the engine's own rotation (log driver options).
 */
import type { Config } from '../config/schema.ts';
import type { CommandContext } from '../core/define-command.ts';
import { errorMessage } from '../core/errors.ts';
import type { Report, Section, Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { HostExecutor } from '../targets/types.ts';
import { listLogs, type LogListing } from './files.ts';
import { ruleFor, parseSize } from './logrotate.ts';

const ICON: Record<Status, string> = { ok: '✅', warn: '⚠️', crit: '❌', info: 'ℹ️' };
const RANK: Record<Status, number> = { info: 0, ok: 1, warn: 2, crit: 3 };
const worst = (all: Status[]): Status => all.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');

type Policy = Config['log_rotation'];
type Svc = Config['services'][string];

export const hostLogs = (svc: Svc) => [svc.logs.app, svc.logs.error].filter((f): f is string => !!f);

/** Services whose logs can be checked: files on a host, or a container. */
export function rotationServices(config: Config): string[] {
  return Object.keys(config.services).filter((s) => {
    const svc = config.services[s];
    return (svc.host && hostLogs(svc).length) || (svc.docker && svc.container);
  });
}

/** One service's part of the report: what was found, and the files or options it was found in. */
interface Part {
  status: Status;
  section: Section;
  evidence?: string[];
}

interface Finding {
  status: Status;
  text: string;
}

/** One live log and its rotated files against the policy (and the logrotate rule, if found). */
export function judgeLog(l: LogListing, policy: Policy, rules: string | undefined, t: T): { findings: Finding[]; evidence: string[] } {
  const limit = policy.max_size_mb * 1024 * 1024;
  const f: Finding[] = [];
  const evidence: string[] = [];
  if (!l.live) f.push({ status: 'warn', text: t('logs:rotation.missing', { file: l.log }) });
  else {
    evidence.push(`${t.bytes(l.live.size).padStart(10)}  ${t.time(l.live.mtime * 1000)}  ${l.live.path}`);
    f.push(l.live.size > limit
      ? { status: 'warn', text: t('logs:rotation.live_big', { file: l.log, size: l.live.size, limit }) }
      : { status: 'ok', text: t('logs:rotation.live_ok', { file: l.log, size: l.live.size, limit }) });
  }
  if (l.unreadableDir) f.push({ status: 'warn', text: t('logs:rotation.dir_unreadable', { file: l.log }) });
  for (const r of l.rotated) evidence.push(`${t.bytes(r.size).padStart(10)}  ${t.time(r.mtime * 1000)}  ${r.path}`);
  const total = l.rotated.reduce((n, r) => n + r.size, 0);
  const rule = rules === undefined ? undefined : ruleFor(rules, l.log);
  if (l.rotated.length > policy.keep) f.push({ status: 'warn', text: t('logs:rotation.too_many', { count: l.rotated.length, keep: policy.keep, bytes: total }) });
  else if (l.rotated.length) f.push({ status: 'ok', text: t('logs:rotation.kept', { count: l.rotated.length, keep: policy.keep, bytes: total }) });
  // The newest rotated file may wait a cycle under delaycompress; every other one must be gzipped.
  const plain = l.rotated.filter((r) => !r.compressed && !(rule?.delaycompress && (r.number === 1 || r === l.rotated[0])));
  if (policy.compress && plain.length) f.push({ status: 'warn', text: t('logs:rotation.uncompressed', { count: plain.length, files: plain.slice(0, 5).map((r) => r.path.split('/').at(-1)!) }) });
  const big = l.rotated.filter((r) => !r.compressed && r.size > limit * 1.1);
  if (big.length) f.push({ status: 'warn', text: t('logs:rotation.rotated_big', { count: big.length, limit }) });
  if (rule) {
    const off: string[] = [];
    if (rule.rotate !== policy.keep) off.push(t('logs:rotation.rule.rotate', { value: rule.rotate ?? '-', want: policy.keep }));
    if (rule.sizeBytes === undefined || rule.sizeBytes > limit) off.push(t('logs:rotation.rule.size', { value: rule.sizeBytes === undefined ? '-' : t.bytes(rule.sizeBytes), want: limit }));
    if (policy.compress && !rule.compress) off.push(t('logs:rotation.rule.compress'));
    f.push(off.length
      ? { status: 'warn', text: t('logs:rotation.rule.off', { file: rule.file, pattern: rule.pattern, problems: off.join(t('logs:separator')) }) }
      : { status: 'ok', text: t('logs:rotation.rule.ok', { file: rule.file, pattern: rule.pattern, rotate: rule.rotate, size: rule.sizeBytes }) });
  } else if (!l.rotated.length) {
    // No rule we can read and no rotated file: nothing shows that this log is rotated at all.
    f.push({ status: 'warn', text: t('logs:rotation.no_sign', { file: l.log }) });
  } else f.push({ status: 'info', text: t('logs:rotation.no_rule', { file: l.log }) });
  return { findings: f, evidence };
}

/** Docker's json-file/local drivers rotate by max-size and max-file; others are not the engine's to rotate. */
export function judgeDriver(logConfig: { type: string; config: Record<string, string> } | undefined, policy: Policy, t: T): Finding[] {
  const limit = policy.max_size_mb * 1024 * 1024;
  const type = logConfig?.type ?? 'json-file';
  const o = logConfig?.config ?? {};
  if (type !== 'json-file' && type !== 'local') return [{ status: 'warn', text: t('logs:rotation.driver_other', { driver: type }) }];
  // The local driver rotates and compresses by default (20m × 5); json-file keeps one file without limit.
  const maxSize = o['max-size'] ? parseSize(o['max-size']) : type === 'local' ? 20 * 1024 * 1024 : undefined;
  const maxFile = o['max-file'] ? Number(o['max-file']) : type === 'local' ? 5 : 1;
  const compress = type === 'local' ? o.compress !== 'false' : o.compress === 'true';
  const f: Finding[] = [];
  f.push(maxSize === undefined
    ? { status: 'warn', text: t('logs:rotation.driver_unbounded', { driver: type }) }
    : maxSize > limit
      ? { status: 'warn', text: t('logs:rotation.driver_size_big', { driver: type, size: maxSize, limit }) }
      : { status: 'ok', text: t('logs:rotation.driver_size_ok', { driver: type, size: maxSize, limit }) });
  f.push(maxFile === policy.keep
    ? { status: 'ok', text: t('logs:rotation.driver_files_ok', { count: maxFile, keep: policy.keep }) }
    : { status: 'warn', text: t('logs:rotation.driver_files_off', { count: maxFile, keep: policy.keep }) });
  if (policy.compress) f.push(compress ? { status: 'ok', text: t('logs:rotation.driver_compress_ok') } : { status: 'warn', text: t('logs:rotation.driver_compress_off') });
  return f;
}

async function hostSection(ctx: CommandContext<unknown>, service: string, svc: Svc, rulesCache: Map<string, Promise<string | undefined>>): Promise<Part> {
  const { t, config } = ctx;
  const title = t('logs:rotation.section_host', { service, host: svc.host });
  const host: HostExecutor | undefined = ctx.targets.hosts.get(svc.host!);
  if (!host) return { status: 'crit', section: { title, lines: [`❌ ${t('logs:host_not_configured', { host: svc.host, service })}`] } };
  if (!rulesCache.has(svc.host!)) {
    rulesCache.set(svc.host!, host.run('logrotateConfigs', [config.log_rotation.logrotate]).then((r) => (r.code === 0 ? r.stdout : undefined), () => undefined));
  }
  try {
    const [listing, rules] = await Promise.all([listLogs(host, hostLogs(svc)), rulesCache.get(svc.host!)!]);
    const judged = listing.map((l) => judgeLog(l, config.log_rotation, rules, t));
    const findings = judged.flatMap((j) => j.findings);
    return {
      status: worst(findings.map((x) => x.status)),
      section: { title, lines: findings.map((x) => `${ICON[x.status]} ${x.text}`) },
      evidence: judged.flatMap((j) => j.evidence),
    };
  } catch (err) {
    return { status: 'crit', section: { title, lines: [`❌ ${t('logs:rotation.unreachable', { host: svc.host, reason: errorMessage(err) })}`] } };
  }
}


async function containerSection(ctx: CommandContext<unknown>, service: string, svc: Svc): Promise<Part> {
  const { t, config } = ctx;
  const title = t('logs:rotation.section_container', { service, container: svc.container });
  const docker = ctx.targets.docker.get(svc.docker!);
  if (!docker) return { status: 'crit', section: { title, lines: [`❌ ${t('logs:docker_not_configured', { docker: svc.docker })}`] } };
  try {
    const info = await docker.inspect(svc.container!);
    if (!info) return { status: 'warn', section: { title, lines: [`⚠️ ${t('logs:rotation.no_container', { container: svc.container })}`] } };
    const findings = judgeDriver(info.logConfig, config.log_rotation, t);
    const opts = Object.entries(info.logConfig?.config ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    return { status: worst(findings.map((x) => x.status)), section: { title, lines: findings.map((x) => `${ICON[x.status]} ${x.text}`) }, evidence: [`${info.logConfig?.type ?? 'json-file'} ${opts}`.trim()] };
  } catch (err) {
    return { status: 'crit', section: { title, lines: [`❌ ${t('logs:rotation.unreachable', { host: svc.docker, reason: errorMessage(err) })}`] } };
  }
}

export async function rotationReport(ctx: CommandContext<unknown>): Promise<Report> {
  const { t, config } = ctx;
  const names = rotationServices(config);
  const rulesCache = new Map<string, Promise<string | undefined>>();
  const results = await Promise.all(names.flatMap((name) => {
    const svc = config.services[name];
    const parts: Array<Promise<Part>> = [];
    if (svc.host && hostLogs(svc).length) parts.push(hostSection(ctx, name, svc, rulesCache));
    if (svc.docker && svc.container) parts.push(containerSection(ctx, name, svc));
    return parts;
  }));
  const status = results.length ? worst(results.map((r) => r.status)) : 'info';
  const p = config.log_rotation;
  return {
    // i18n-exempt: the command line, the same in every language
    title: '/logs rotation',
    status,
    summary: results.length
      ? t(`logs:rotation.summary.${status}`, { size: p.max_size_mb * 1024 * 1024, keep: p.keep, count: results.filter((r) => r.status !== 'ok').length })
      : t('logs:rotation.none'),
    sections: results.flatMap((r) => [
      { ...r.section, title: `${ICON[r.status]} ${r.section.title}` },
      ...(r.evidence?.length ? [{ title: t('logs:rotation.evidence'), lines: r.evidence, code: true }] : []),
    ]),
  };
}
