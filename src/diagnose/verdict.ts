import type { Msg, T } from '../i18n/index.ts';
import type { ContainerInfo, DiskUsage } from '../targets/types.ts';

/** A reason: ours, still to be put in the reader's words, or a server's own text as it said it. */
export type Text = Msg | string;

/** What /diagnose found, gathered in parallel; each part may have failed on its own. */
export interface DiagnoseFacts {
  service: string;
  container?: { name: string; info: ContainerInfo | null; logTail: string[]; error?: Text };
  /** listening is null, with the reason in error, when the check could not run. */
  port?: { host: string; port: number; listening: boolean | null; error?: Text };
  /** error: the disks could not be read. */
  disk?: { host: string; disks: DiskUsage[]; critPercent: number; error?: Text };
  deps: Array<{
    kind: 'postgres' | 'redis';
    name: string;
    where: string;
    /**
     * TCP connect from the service's host (null when the service has no host). `failed`: the
     * probe ran there and could not connect. `unchecked`: the probe itself did not run or did not
     * finish (host unreachable, its session slow or timed out), which says nothing about the network.
     */
    tcp: { status: 'ok' | 'failed' | 'unchecked'; from: string; error?: Text } | null;
    /** A real login with the configured credentials, from the bot. */
    login: { ok: boolean; error?: Text };
  }>;
}

// The line in a crash log most likely to name the cause.
const CAUSE = /(error|exception|fatal|could not|refused|denied|no such|not found|timed? ?out)/i;

/** The last log line that looks like a cause, shortened for a one-line verdict. */
export function likelyCause(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!CAUSE.test(line)) continue;
    // "psycopg2.OperationalError: could not connect…" → the message after the exception's name.
    const short = /(?:^|\s)[\w.]*(?:Error|Exception)\w*:\s*(.+)$/.exec(line)?.[1] ?? line;
    return short.length > 90 ? `${short.slice(0, 89)}…` : short;
  }
  return undefined;
}

export interface Verdict {
  /** Nothing wrong, and everything could be checked. */
  ok: boolean;
  /** crit: a problem; warn: none found, but some parts could not be checked. */
  status: 'ok' | 'warn' | 'crit';
  text: string;
}

const dep = (d: { kind: string; name: string }) => `${d.kind} ${d.name}`;

/** "could not check from app1 (TCP to postgres main, port 5000): the SSH session timed out after 5 s", per host and reason. */
function unchecked(f: DiagnoseFacts, t: T): string[] {
  const groups = new Map<string, { host: string; reason: string; what: string[] }>();
  const add = (host: string, reason: Text | undefined, what: string) => {
    const why = reason === undefined ? t('diagnose:verdict.no_answer') : t.text(reason);
    const key = `${host}\n${why}`;
    const g = groups.get(key) ?? { host, reason: why, what: [] };
    g.what.push(what);
    groups.set(key, g);
  };
  for (const d of f.deps) if (d.tcp?.status === 'unchecked') add(d.tcp.from, d.tcp.error, t('diagnose:verdict.what.tcp', { dep: dep(d) }));
  if (f.port && f.port.listening === null) add(f.port.host, f.port.error, t('diagnose:verdict.what.port', { port: f.port.port }));
  if (f.disk?.error) add(f.disk.host, f.disk.error, t('diagnose:verdict.what.disk'));
  return [...groups.values()].map((g) => t('diagnose:verdict.unchecked', { host: g.host, what: g.what.join(t('diagnose:verdict.list_separator')), reason: g.reason }));
}

/**
 * The verdict opens the report: the problems, most decisive first, joined into one sentence,
 * e.g. "backend exits with code 1 (`could not connect to server`); postgres main is down". What
 * could not be checked is said as such, never read as a failure of the thing checked.
 */
export function verdict(f: DiagnoseFacts, t: T): Verdict {
  const service = f.service;
  const problems: string[] = [];
  const c = f.container;
  if (c?.error) problems.push(t('diagnose:verdict.uninspectable', { service, error: t.text(c.error) }));
  else if (c && !c.info) problems.push(t('diagnose:verdict.missing', { service, container: c.name }));
  else if (c?.info) {
    const info = c.info;
    const cause = likelyCause(c.logTail);
    const why = cause ? t('diagnose:verdict.cause', { cause }) : '';
    if (info.state === 'exited' || info.state === 'dead') problems.push(t('diagnose:verdict.exits', { service, code: info.exitCode ?? '?', why }));
    else if (info.state === 'restarting') {
      const also = cause ? t('diagnose:verdict.cause_after', { cause }) : '';
      problems.push(t('diagnose:verdict.restarting', { service, count: info.restartCount, cause: also }));
    } else if (info.state !== 'running') problems.push(t('diagnose:verdict.state', { service, state: info.state }));
    else if (info.health === 'unhealthy') problems.push(t('diagnose:verdict.unhealthy', { service, why }));
  }
  for (const d of f.deps) {
    if (!d.login.ok) problems.push(t('diagnose:verdict.dep_down', { dep: dep(d), error: d.login.error === undefined ? t('diagnose:verdict.login_failed') : t.text(d.login.error) }));
    else if (d.tcp?.status === 'failed') {
      const error = d.tcp.error === undefined ? t('diagnose:verdict.connect_failed') : t.text(d.tcp.error);
      problems.push(t('diagnose:verdict.dep_unreachable', { dep: dep(d), host: d.tcp.from, error }));
    }
  }
  if (f.port?.listening === false) problems.push(t('diagnose:verdict.no_listener', { port: f.port.port, host: f.port.host }));
  for (const disk of f.disk?.disks ?? []) {
    if (disk.usePercent >= f.disk!.critPercent) {
      problems.push(t('diagnose:verdict.disk_full', { mount: disk.mount, host: f.disk!.host, percent: t.number(disk.usePercent / 100, { style: 'percent' }) }));
    }
  }
  const notChecked = unchecked(f, t);
  const clauses = t('diagnose:verdict.clause_separator');
  if (problems.length) return { ok: false, status: 'crit', text: [...problems, ...notChecked].join(clauses) };
  if (notChecked.length) return { ok: false, status: 'warn', text: t('diagnose:verdict.no_problem_but', { service, unchecked: notChecked.join(clauses) }) };
  const good = [
    c?.info
      ? c.info.health
        ? t('diagnose:verdict.good.container_health', { container: c.info.name, state: c.info.state, health: c.info.health })
        : t('diagnose:verdict.good.container', { container: c.info.name, state: c.info.state })
      : undefined,
    f.port?.listening ? t('diagnose:verdict.good.port', { port: f.port.port }) : undefined,
    f.deps.length ? t('diagnose:verdict.good.deps', { deps: f.deps.map(dep).join(t('diagnose:verdict.list_separator')) }) : undefined,
  ].filter((x): x is string => x !== undefined);
  return {
    ok: true,
    status: 'ok',
    text: good.length ? t('diagnose:verdict.healthy_with', { service, good: good.join(t('diagnose:verdict.good.separator')) }) : t('diagnose:verdict.healthy', { service }),
  };
}
