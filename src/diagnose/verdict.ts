import type { ContainerInfo, DiskUsage } from '../targets/types.ts';

/** What /diagnose found, gathered in parallel; each part may have failed on its own. */
export interface DiagnoseFacts {
  service: string;
  container?: { name: string; info: ContainerInfo | null; logTail: string[]; error?: string };
  /** listening is null, with the reason in error, when the check could not run. */
  port?: { host: string; port: number; listening: boolean | null; error?: string };
  /** error: the disks could not be read. */
  disk?: { host: string; disks: DiskUsage[]; critPercent: number; error?: string };
  deps: Array<{
    kind: 'postgres' | 'redis';
    name: string;
    where: string;
    /**
     * TCP connect from the service's host (null when the service has no host). `failed`: the
     * probe ran there and could not connect. `unchecked`: the probe itself did not run or did not
     * finish (host unreachable, its session slow or timed out), which says nothing about the network.
     */
    tcp: { status: 'ok' | 'failed' | 'unchecked'; from: string; error?: string } | null;
    /** A real login with the configured credentials, from the bot. */
    login: { ok: boolean; error?: string };
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

/** "could not check from app1 (TCP to postgres main, port 5000): the SSH session timed out after 5 s", per host and reason. */
function unchecked(f: DiagnoseFacts): string[] {
  const groups = new Map<string, { host: string; reason: string; what: string[] }>();
  const add = (host: string, reason: string | undefined, what: string) => {
    const key = `${host}\n${reason ?? ''}`;
    const g = groups.get(key) ?? { host, reason: reason ?? 'no answer', what: [] };
    g.what.push(what);
    groups.set(key, g);
  };
  for (const d of f.deps) if (d.tcp?.status === 'unchecked') add(d.tcp.from, d.tcp.error, `TCP to ${d.kind} ${d.name}`);
  if (f.port && f.port.listening === null) add(f.port.host, f.port.error, `port ${f.port.port}`);
  if (f.disk?.error) add(f.disk.host, f.disk.error, 'disk');
  return [...groups.values()].map((g) => `could not check from ${g.host} (${g.what.join(', ')}): ${g.reason}`);
}

/**
 * The verdict opens the report: the problems, most decisive first, joined into one sentence,
 * e.g. "backend exits with code 1 (`could not connect to server`); postgres main is down". What
 * could not be checked is said as such, never read as a failure of the thing checked.
 */
export function verdict(f: DiagnoseFacts): Verdict {
  const problems: string[] = [];
  const c = f.container;
  if (c?.error) problems.push(`${f.service}'s container cannot be inspected (${c.error})`);
  else if (c && !c.info) problems.push(`${f.service}'s container ${c.name} does not exist`);
  else if (c?.info) {
    const info = c.info;
    const cause = likelyCause(c.logTail);
    const why = cause ? ` (\`${cause}\`)` : '';
    if (info.state === 'exited' || info.state === 'dead') problems.push(`${f.service} exits with code ${info.exitCode ?? '?'}${why}`);
    else if (info.state === 'restarting') problems.push(`${f.service} keeps restarting (${info.restartCount} restarts${cause ? `, \`${cause}\`` : ''})`);
    else if (info.state !== 'running') problems.push(`${f.service} is ${info.state}`);
    else if (info.health === 'unhealthy') problems.push(`${f.service} is running but unhealthy${why}`);
  }
  for (const d of f.deps) {
    const label = `${d.kind} ${d.name}`;
    if (!d.login.ok) problems.push(`${label} is down (${d.login.error ?? 'login failed'})`);
    else if (d.tcp?.status === 'failed') problems.push(`${label} is up but unreachable from ${d.tcp.from} (${d.tcp.error ?? 'connect failed'})`);
  }
  if (f.port?.listening === false) problems.push(`nothing listens on port ${f.port.port} on ${f.port.host}`);
  for (const disk of f.disk?.disks ?? []) {
    if (disk.usePercent >= f.disk!.critPercent) problems.push(`disk ${disk.mount} on ${f.disk!.host} is ${disk.usePercent}% full`);
  }
  const notChecked = unchecked(f);
  if (problems.length) return { ok: false, status: 'crit', text: [...problems, ...notChecked].join('; ') };
  if (notChecked.length) return { ok: false, status: 'warn', text: `${f.service}: no problem found, but ${notChecked.join('; ')}` };
  const good = [
    c?.info ? `${c.info.name} ${c.info.state}${c.info.health ? ` and ${c.info.health}` : ''}` : undefined,
    f.port?.listening ? `port ${f.port.port} listening` : undefined,
    f.deps.length ? `${f.deps.map((d) => `${d.kind} ${d.name}`).join(', ')} reachable` : undefined,
  ].filter(Boolean);
  return { ok: true, status: 'ok', text: `${f.service} looks healthy${good.length ? `: ${good.join(', ')}` : ''}` };
}
