/**
 * /security check's 漏洞与补丁 inside the app's containers, against a real dockerd: every command
 * goes through docker exec into real busybox containers.
 *
 * - The compose stack's busybox containers have neither pip-audit nor npm: "not checked", naming
 *   the container, and never counted as passed.
 * - No package index is reachable from this machine and the busybox image has no Python or Node,
 *   so the real tools cannot run here. Where a tool must be present, the container gets a small
 *   sh script installed as /usr/local/bin/pip-audit or /usr/local/bin/npm. These scripts are
 *   STAND-INS for the tools, not the tools: each behaves as the real one does in the situation
 *   tested (offline: a connection error on stderr and exit 1, no JSON; a finding: a JSON report
 *   in the tool's documented shape and exit 1). They check that they are called with the
 *   arguments opsbot must pass, and fail otherwise. What the test proves is opsbot's side: the
 *   probe, the exec, the parsing and the finding with its evidence.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { stackConfig, startStack, type Stack } from '../helpers/compose.ts';
import { scaledDuration } from '../helpers/wait.ts';

let stack: Stack;
let t: TestBot;
let dir: string;
let text: string;

/** Stand-in for pip-audit when its index cannot be reached: what requests prints when the name does not resolve, no report, exit 1. */
const PIP_OFFLINE = `#!/bin/sh
# STAND-IN for pip-audit (no index is reachable from the test machine): behaves like it does offline.
if [ "$1" = "--version" ]; then echo "pip-audit 2.7.3"; exit 0; fi
case " $* " in *" --format json "*) ;; *) echo "stand-in: expected --format json, got: $*" >&2; exit 2;; esac
echo "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with url: /pypi/flask/0.12.2/json (Caused by NameResolutionError: Temporary failure in name resolution)" >&2
exit 1
`;

/** Stand-in for pip-audit finding one vulnerable package: a report in pip-audit's JSON shape, exit 1 as the tool does on a finding. */
const PIP_FINDS = `#!/bin/sh
# STAND-IN for pip-audit (no index is reachable from the test machine): prints a report with one vulnerable package.
if [ "$1" = "--version" ]; then echo "pip-audit 2.7.3"; exit 0; fi
case " $* " in *" --format json "*) ;; *) echo "stand-in: expected --format json, got: $*" >&2; exit 2;; esac
echo "Found 1 known vulnerability in 1 package" >&2
echo '{"dependencies": [{"name": "flask", "version": "0.12.2", "vulns": [{"id": "PYSEC-2019-179", "fix_versions": ["1.0"], "aliases": ["CVE-2019-1010083"], "description": ""}]}, {"name": "requests", "version": "2.31.0", "vulns": []}], "fixes": []}'
exit 1
`;

/** Stand-in for pip-audit with nothing to report: exit 0 and a report without vulnerabilities. */
const PIP_CLEAN = `#!/bin/sh
# STAND-IN for pip-audit (no index is reachable from the test machine): a report with no vulnerability.
if [ "$1" = "--version" ]; then echo "pip-audit 2.7.3"; exit 0; fi
case " $* " in *" --format json "*) ;; *) echo "stand-in: expected --format json, got: $*" >&2; exit 2;; esac
echo '{"dependencies": [{"name": "requests", "version": "2.32.3", "vulns": []}, {"name": "idna", "version": "3.7", "vulns": []}], "fixes": []}'
exit 0
`;

/** Stand-in for npm whose registry cannot be reached: npm audit --json prints an error object, exit 1. */
const NPM_OFFLINE = `#!/bin/sh
# STAND-IN for npm (no registry is reachable from the test machine): npm audit fails as it does offline.
if [ "$1" = "--version" ]; then echo "10.8.2"; exit 0; fi
if [ "$1 $2" != "audit --json" ]; then echo "stand-in: expected audit --json, got: $*" >&2; exit 2; fi
[ -f package-lock.json ] || { echo "stand-in: run outside the app's directory: $(pwd)" >&2; exit 2; }
echo '{"error": {"code": "EAI_AGAIN", "summary": "request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org", "detail": ""}}'
exit 1
`;

/** A busybox container of the stack's project with the given files copied in (executables under /usr/local/bin). */
async function containerWith(service: string, files: Record<string, string>): Promise<string> {
  const name = stack.name(service);
  await stack.engine.runComposeService({ project: stack.project, service, env: { PATH: '/usr/local/bin:/bin' } });
  await stack.engine.docker('exec', name, 'mkdir', '-p', '/usr/local/bin');
  for (const [path, body] of Object.entries(files)) {
    const local = join(dir, `${service}-${path.replaceAll('/', '_')}`);
    writeFileSync(local, body);
    chmodSync(local, 0o755);
    await stack.engine.docker('cp', local, `${name}:${path}`);
  }
  return name;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'opsbot-deps-'));
  stack = await startStack();
  await Promise.all([
    containerWith('pyoffline', { '/usr/local/bin/pip-audit': PIP_OFFLINE }),
    containerWith('pyvuln', { '/usr/local/bin/pip-audit': PIP_FINDS }),
    containerWith('pyclean', { '/usr/local/bin/pip-audit': PIP_CLEAN }),
    // npm runs in the container's working directory (/ in this image), where the manifests are.
    containerWith('nodeoffline', { '/usr/local/bin/npm': NPM_OFFLINE, '/package.json': '{"name": "web", "version": "1.0.0"}\n', '/package-lock.json': '{"name": "web", "lockfileVersion": 3, "packages": {}}\n' }),
    // Exits at once: a configured service whose container is not running.
    stack.engine.runComposeService({ project: stack.project, service: 'stopped', cmd: ['true'] }),
  ]);
  const base = stackConfig(stack);
  const svc = (service: string) => ({ docker: 'local', container: stack.name(service) });
  t = await startTestBot({
    ...base,
    services: { ...base.services, pyoffline: svc('pyoffline'), pyvuln: svc('pyvuln'), pyclean: svc('pyclean'), nodeoffline: svc('nodeoffline'), stopped: svc('stopped') },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    security: { timeout: scaledDuration(15_000), deps_timeout: scaledDuration(60_000) },
  });
  text = messageText((await t.run('/security', 'check')).reply);
});

after(async () => {
  await t?.close();
  await stack?.engine.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The report's line that contains `needle`. */
function line(report: string, needle: string): string {
  const found = report.split('\n').find((l) => l.includes(needle));
  assert.ok(found, `no line with ${needle} in:\n${report}`);
  return found;
}

describe('/security check: pip-audit / npm audit inside containers', () => {
  test('a busybox container with neither tool is not checked, named, and not passed', () => {
    for (const service of ['backend', 'worker', 'nginx']) {
      const l = line(text, `service ${service} (container ${stack.name(service)})`);
      assert.match(l, /^❔ not checked · [^\n]*: pip-audit \/ npm audit not checked: neither pip-audit nor npm is installed in the container$/);
    }
  });

  test('pip-audit that cannot reach its index (stand-in): not checked, index unreachable, with its reason', () => {
    const l = line(text, `service pyoffline (container ${stack.name('pyoffline')})`);
    assert.match(l, /^❔ not checked · [^\n]*: pip-audit not checked: its index cannot be reached from the container \(requests\.exceptions\.ConnectionError: [^\n]*name resolution/);
  });

  test('pip-audit reporting a vulnerable package (stand-in): a warning with package, version, ids and patched version', () => {
    const l = line(text, `service pyvuln (container ${stack.name('pyvuln')})`);
    assert.equal(l, `⚠️ warn · service pyvuln (container ${stack.name('pyvuln')}): pip-audit: 1 vulnerable dependency of 2: flask 0.12.2 (PYSEC-2019-179, CVE-2019-1010083; patched in 1.0)`);
  });

  test('pip-audit reporting nothing (stand-in): the only case shown as ok, with the count', () => {
    const l = line(text, `service pyclean (container ${stack.name('pyclean')})`);
    assert.match(l, /^✅ ok · [^\n]*: pip-audit found no known vulnerability in 2 dependencies$/);
  });

  test('npm audit whose registry cannot be reached (stand-in): not checked, with npm\'s reason', () => {
    const l = line(text, `service nodeoffline (container ${stack.name('nodeoffline')})`);
    assert.match(l, /^❔ not checked · [^\n]*: npm audit not checked: its index cannot be reached from the container \([^\n]*getaddrinfo EAI_AGAIN registry\.npmjs\.org/);
  });

  test('a container that is not running is not checked, and says so', () => {
    const l = line(text, `service stopped (container ${stack.name('stopped')})`);
    assert.match(l, /^❔ not checked · [^\n]*: pip-audit \/ npm audit not checked: the container is not running \(exited\)$/);
  });

  test('the verdict counts the warning and the parts not checked; nothing unchecked is passed', () => {
    assert.match(text, /⚠️ No critical finding; \d+ warnings?, \d+ not checked\./);
    assert.doesNotMatch(text, /Every part was checked/);
    for (const l of text.split('\n').filter((x) => x.includes('not checked') && !x.includes('No critical finding'))) assert.match(l, /^❔ /, l);
  });

  test('in Chinese, in the manual\'s terms', async () => {
    const zh = messageText((await t.run('/security', 'check', { channel: 'C0ZH' })).reply);
    assert.match(zh, /漏洞与补丁/);
    assert.match(line(zh, `服务 pyvuln（容器 ${stack.name('pyvuln')}）`), /⚠️ 警告 · [^\n]*2 个依赖中有 1 个存在漏洞：flask 0\.12\.2（PYSEC-2019-179, CVE-2019-1010083；补丁版本 1\.0）/);
    assert.match(line(zh, `服务 backend（容器 ${stack.name('backend')}）`), /❔ 未检查 · [^\n]*容器内既没有安装 pip-audit，也没有安装 npm/);
    assert.match(line(zh, `服务 pyoffline（容器 ${stack.name('pyoffline')}）`), /pip-audit 未检查：容器内无法访问它的索引/);
  });
});
