import type { ContainerInfo, DiskUsage } from '../targets/types.ts';

/** What /diagnose found, gathered in parallel; each part may have failed on its own. */
export interface DiagnoseFacts {
  service: string;
  container?: { name: string; info: ContainerInfo | null; logTail: string[]; error?: string };
  port?: { host: string; port: number; listening: boolean | null; error?: string };
  disk?: { host: string; disks: DiskUsage[]; critPercent: number; error?: string };
  deps: Array<{
    kind: 'postgres' | 'redis';
    name: string;
    where: string;
    /** TCP connect from the service's host (null when the service has no host). */
    tcp: { ok: boolean; from: string; error?: string } | null;
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

/**
 * The verdict opens the report: the problems, most decisive first, joined into one sentence,
 * e.g. "backend exits with code 1 (`could not connect to server`); postgres main is down".
 */
export function verdict(f: DiagnoseFacts): { ok: boolean; text: string } {
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
    else if (d.tcp && !d.tcp.ok) problems.push(`${label} is up but unreachable from ${d.tcp.from} (${d.tcp.error ?? 'connect failed'})`);
  }
  if (f.port?.listening === false) problems.push(`nothing listens on port ${f.port.port} on ${f.port.host}`);
  for (const disk of f.disk?.disks ?? []) {
    if (disk.usePercent >= f.disk!.critPercent) problems.push(`disk ${disk.mount} on ${f.disk!.host} is ${disk.usePercent}% full`);
  }
  if (problems.length) return { ok: false, text: problems.join('; ') };
  const good = [
    c?.info ? `${c.info.name} ${c.info.state}${c.info.health ? ` and ${c.info.health}` : ''}` : undefined,
    f.port?.listening ? `port ${f.port.port} listening` : undefined,
    f.deps.length ? `${f.deps.map((d) => `${d.kind} ${d.name}`).join(', ')} reachable` : undefined,
  ].filter(Boolean);
  return { ok: true, text: `${f.service} looks healthy${good.length ? `: ${good.join(', ')}` : ''}` };
}
