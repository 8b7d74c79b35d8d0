/**
 * 漏洞与补丁 inside the app's containers (manual §5.1: `pip-audit`, `npm audit`): what the tools
 * said, turned into facts. A tool that did not give a report (not installed, index unreachable,
 * no lockfile, timeout, a crash) comes back as `{ checked: false, why }`, never as an empty list,
 * so the report says "not checked" rather than "no vulnerability". Pure functions, no I/O.
 */

/** One `docker exec` as src/targets/docker-recreate.ts returns it; code null: past its time. */
export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  truncated?: boolean;
}

export const NPM_SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
export type NpmSeverity = (typeof NPM_SEVERITIES)[number];

/** A vulnerable package and the evidence: the advisories' ids and the versions that fix them. */
export interface VulnPackage {
  name: string;
  /** The installed version (pip-audit), or the vulnerable range (npm audit v2 reports no version). */
  version: string;
  ids: string[];
  fix: string[];
  /** npm audit's own severity; pip-audit's report has none. */
  severity?: NpmSeverity;
}

export type NotChecked = 'not_installed' | 'no_manifest' | 'no_lockfile' | 'unreachable' | 'timeout' | 'too_large' | 'failed';

export type AuditOutcome =
  | { checked: true; packages: number | null; vulnerable: VulnPackage[]; skipped: string[] }
  | { checked: false; why: NotChecked; detail: string };

/** How a connection failure reads in pip's, requests', urllib3's and npm's own words. */
const UNREACHABLE = /could not connect|connection ?error|connection refused|connection reset|failed to establish|max retries exceeded|name resolution|name or service not known|nodename nor servname|getaddrinfo|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network is unreachable|no route to host|read timed out|connect timeout/i;

/** Docker's words when the program is not in the container (exit 126 or 127). */
const MISSING = /executable file not found|no such file or directory|not found/i;

/** The tool's own reason in one short line: the line that names the connection failure, else its last line. */
export function reasonOf(text: string, max = 240): string {
  const lines = text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l && !/^(Traceback|File ")/.test(l));
  const line = lines.find((l) => UNREACHABLE.test(l)) ?? lines.at(-1) ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Whether a probe (`pip-audit --version`, `npm --version`) found the program. */
export function toolPresent(r: ExecResult): boolean | 'timeout' {
  if (r.code === null) return 'timeout';
  if (r.code === 0) return true;
  if ((r.code === 126 || r.code === 127) && MISSING.test(`${r.stdout}\n${r.stderr}`)) return false;
  // Present but broken (a missing interpreter, say): running it will say how.
  return true;
}

/** The first JSON value in `text` (tools may print a warning line before it); undefined when there is none. */
export function firstJson(text: string): unknown {
  const i = text.search(/[[{]/);
  if (i < 0) return undefined;
  try {
    return JSON.parse(text.slice(i));
  } catch {
    return undefined;
  }
}

const strings = (x: unknown): string[] => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : []);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A run that gave no report: past its time, cut short, the index unreachable, or another failure. */
function failure(r: ExecResult): AuditOutcome {
  if (r.code === null) return { checked: false, why: 'timeout', detail: '' };
  const text = r.stderr.trim() || r.stdout.trim();
  if (r.truncated) return { checked: false, why: 'too_large', detail: '' };
  if (UNREACHABLE.test(text)) return { checked: false, why: 'unreachable', detail: reasonOf(text) };
  return { checked: false, why: 'failed', detail: reasonOf(text) || `exit ${r.code}` };
}

/**
 * `pip-audit --format json`: `{"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions",
 * "aliases", "description"}]} | {"name", "skip_reason"}], "fixes": []}` (older releases: the bare
 * list). Exit 1 with a report means vulnerabilities were found; without one, it failed.
 */
export function parsePipAudit(r: ExecResult): AuditOutcome {
  if (r.code === null || r.truncated) return failure(r);
  const json = firstJson(r.stdout);
  const deps = Array.isArray(json) ? json : isObj(json) && Array.isArray(json.dependencies) ? json.dependencies : undefined;
  if (!deps) return failure(r);
  const vulnerable: VulnPackage[] = [];
  const skipped: string[] = [];
  let packages = 0;
  for (const d of deps) {
    if (!isObj(d) || typeof d.name !== 'string') continue;
    if (typeof d.skip_reason === 'string') {
      skipped.push(d.name);
      continue;
    }
    packages++;
    const vulns = Array.isArray(d.vulns) ? d.vulns.filter(isObj) : [];
    if (!vulns.length) continue;
    vulnerable.push({
      name: d.name,
      version: typeof d.version === 'string' ? d.version : '?',
      ids: [...new Set(vulns.flatMap((v) => [typeof v.id === 'string' ? v.id : '', ...strings(v.aliases)]).filter(Boolean))],
      fix: [...new Set(vulns.flatMap((v) => strings(v.fix_versions)))],
    });
  }
  return { checked: true, packages, vulnerable, skipped };
}

/** An advisory's id from its URL (…/advisories/GHSA-…), else its number. */
function advisoryId(v: Record<string, unknown>): string {
  const url = typeof v.url === 'string' ? v.url : '';
  const tail = url.split('/').filter(Boolean).at(-1);
  if (tail) return tail;
  return v.source !== undefined ? String(v.source) : typeof v.title === 'string' ? v.title : '?';
}

const severityOf = (x: unknown): NpmSeverity => ((NPM_SEVERITIES as readonly unknown[]).includes(x) ? (x as NpmSeverity) : 'info');
const rank = (s: NpmSeverity) => NPM_SEVERITIES.indexOf(s);

/**
 * `npm audit --json`. npm 7 and later: `{"vulnerabilities": {name: {severity, via, range,
 * fixAvailable}}, "metadata": {"vulnerabilities": {…, total}, "dependencies": {total}}}`; npm 6:
 * `{"advisories": {id: {module_name, severity, findings, patched_versions}}}`. A failure is
 * `{"error": {code, summary, detail}}` (ENOLOCK without a lockfile, ENOTFOUND/EAI_AGAIN when the
 * registry cannot be reached). Exit 1 with a report means vulnerabilities were found.
 */
export function parseNpmAudit(r: ExecResult): AuditOutcome {
  if (r.code === null || r.truncated) return failure(r);
  const json = firstJson(r.stdout) ?? firstJson(r.stderr);
  if (!isObj(json)) return failure(r);
  if (isObj(json.error)) {
    const e = json.error;
    const code = typeof e.code === 'string' ? e.code : '';
    const text = [code, e.summary, e.detail].filter((x) => typeof x === 'string' && x).join(': ');
    if (code === 'ENOLOCK') return { checked: false, why: 'no_lockfile', detail: reasonOf(String(e.summary ?? code)) };
    if (UNREACHABLE.test(text)) return { checked: false, why: 'unreachable', detail: reasonOf(text) };
    return { checked: false, why: 'failed', detail: reasonOf(text) || `exit ${r.code}` };
  }
  const meta = isObj(json.metadata) ? json.metadata : {};
  const deps = isObj(meta.dependencies) ? meta.dependencies.total : meta.totalDependencies;
  const packages = typeof deps === 'number' ? deps : null;
  const vulnerable: VulnPackage[] = [];
  if (isObj(json.vulnerabilities)) {
    for (const [name, v] of Object.entries(json.vulnerabilities)) {
      if (!isObj(v)) continue;
      const via = Array.isArray(v.via) ? v.via : [];
      // A string in `via` names another vulnerable package this one depends on: the advisory is there.
      const ids = via.map((x) => (isObj(x) ? advisoryId(x) : typeof x === 'string' ? `via ${x}` : '')).filter(Boolean);
      const fa = v.fixAvailable;
      // i18n-exempt: the command that applies the fix, as npm names it
      const fix = fa === true ? ['npm audit fix'] : isObj(fa) ? [`${String(fa.name)}@${String(fa.version)}${fa.isSemVerMajor ? ' (semver-major)' : ''}`] : [];
      vulnerable.push({ name, version: typeof v.range === 'string' ? v.range : '?', ids: [...new Set(ids)], fix, severity: severityOf(v.severity) });
    }
  } else if (isObj(json.advisories)) {
    const byName = new Map<string, VulnPackage>();
    for (const a of Object.values(json.advisories)) {
      if (!isObj(a) || typeof a.module_name !== 'string') continue;
      const versions = Array.isArray(a.findings) ? a.findings.filter(isObj).map((f) => String(f.version)) : [];
      const p = byName.get(a.module_name) ?? { name: a.module_name, version: [...new Set(versions)].join(', ') || '?', ids: [], fix: [], severity: 'info' as NpmSeverity };
      p.ids.push(typeof a.github_advisory_id === 'string' ? a.github_advisory_id : advisoryId(a));
      if (typeof a.patched_versions === 'string' && a.patched_versions !== '<0.0.0') p.fix.push(a.patched_versions);
      if (rank(severityOf(a.severity)) < rank(p.severity!)) p.severity = severityOf(a.severity);
      byName.set(a.module_name, p);
    }
    vulnerable.push(...byName.values());
  } else return failure(r);
  vulnerable.sort((a, b) => rank(a.severity!) - rank(b.severity!) || a.name.localeCompare(b.name));
  return { checked: true, packages, vulnerable, skipped: [] };
}

/** Which npm manifests `ls -1 package.json package-lock.json npm-shrinkwrap.json` listed (it exits 1 for the missing ones). */
export function manifestsOf(r: ExecResult): { packageJson: boolean; lockfile: boolean } | undefined {
  if (r.code === null || (r.code !== 0 && r.code !== 1 && r.code !== 2)) return undefined;
  const listed = new Set(r.stdout.split('\n').map((l) => l.trim()));
  return { packageJson: listed.has('package.json'), lockfile: listed.has('package-lock.json') || listed.has('npm-shrinkwrap.json') };
}
