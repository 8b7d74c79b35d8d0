/**
 * Runs `pip-audit` and `npm audit` inside each configured service's container (manual §5.1 检查依赖漏洞)
 * with docker exec, argv only. First it asks which tools are there (`pip-audit --version`,
 * `npm --version`) and whether the working directory has an npm manifest, then runs the ones that
 * apply, all within `security.deps_timeout` per container. Only facts here; report.ts grades them.
 */
import type { Config } from '../config/schema.ts';
import { errorMessage, UnavailableError } from '../core/errors.ts';
import { TimedOutError } from '../targets/errors.ts';
import type { DockerRecreate } from '../targets/docker-recreate.ts';
import { engineFor } from '../upgrade/plan.ts';
import { manifestsOf, parseNpmAudit, parsePipAudit, toolPresent, type AuditOutcome, type ExecResult } from './deps.ts';

/** A report of a few thousand packages with their advisories fits; more is not read as half a report. */
const REPORT_MAX = 8 * 1024 * 1024;

export type ContainerDeps = { service: string; container: string } & (
  | { reached: false; why: 'missing' | 'not_running' | 'refused' | 'timeout'; detail: string }
  | { reached: true; workdir: string; pip: AuditOutcome; npm: AuditOutcome }
);

/** The services /security check audits: those with a Docker target and a container. */
export const auditable = (config: Config) => Object.entries(config.services).filter(([, s]) => s.docker && s.container);

/** Why Docker would not run a command in the container, from its own answer (409 not running, 403 an authorization plugin…). */
function refusal(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  return (json?.message ?? errorMessage(err)).trim();
}

async function audit(engine: DockerRecreate, service: string, container: string, timeoutMs: number): Promise<ContainerDeps> {
  const end = Date.now() + timeoutMs;
  const left = () => Math.max(1, end - Date.now());
  const run = (cmd: string[], maxBytes?: number): Promise<ExecResult> => engine.exec(container, cmd, left(), { maxBytes });
  const base = { service, container };
  let raw;
  try {
    raw = await engine.container(container);
  } catch (err) {
    if (err instanceof TimedOutError) return { ...base, reached: false, why: 'timeout', detail: '' };
    throw err;
  }
  if (!raw) return { ...base, reached: false, why: 'missing', detail: '' };
  if (!raw.State.Running || raw.State.Paused) return { ...base, reached: false, why: 'not_running', detail: raw.State.Status };
  const workdir = raw.Config.WorkingDir || '/';
  try {
    const [pipProbe, npmProbe, listed] = await Promise.all([
      run(['pip-audit', '--version']),
      run(['npm', '--version']),
      run(['ls', '-1', 'package.json', 'package-lock.json', 'npm-shrinkwrap.json']),
    ]);
    const timedOut: AuditOutcome = { checked: false, why: 'timeout', detail: '' };
    const absent: AuditOutcome = { checked: false, why: 'not_installed', detail: '' };
    const pipHas = toolPresent(pipProbe);
    const npmHas = toolPresent(npmProbe);
    const manifests = manifestsOf(listed);
    const [pip, npm] = await Promise.all([
      pipHas === 'timeout' ? timedOut : !pipHas ? absent
        // The environment pip-audit runs in is the app's when it is installed beside it; no
        // description text, which the report does not show and which would only make it longer.
        : run(['pip-audit', '--format', 'json', '--progress-spinner', 'off', '--desc', 'off'], REPORT_MAX).then(parsePipAudit),
      npmHas === 'timeout' ? timedOut : !npmHas ? absent
        // Without ls (a distroless image) npm audit itself says whether there is a lockfile.
        : manifests && !manifests.packageJson && !manifests.lockfile ? { checked: false as const, why: 'no_manifest' as const, detail: '' }
          : run(['npm', 'audit', '--json'], REPORT_MAX).then(parseNpmAudit),
    ]);
    return { ...base, reached: true, workdir, pip, npm };
  } catch (err) {
    if (err instanceof TimedOutError) return { ...base, reached: false, why: 'timeout', detail: '' };
    // The engine itself gone is the source failing, reported as such by the caller.
    if (err instanceof UnavailableError) throw err;
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 409) return { ...base, reached: false, why: 'not_running', detail: refusal(err) };
    if (code === 404) return { ...base, reached: false, why: 'missing', detail: '' };
    if (code) return { ...base, reached: false, why: 'refused', detail: refusal(err) };
    throw err;
  }
}

/** One container's audit. A failure thrown here (the engine unreachable) is the caller's "did not answer". */
export function auditContainer(config: Config, service: string): Promise<ContainerDeps> {
  const s = config.services[service];
  return audit(engineFor(config, s.docker!), service, s.container!, config.security.deps_timeout);
}
