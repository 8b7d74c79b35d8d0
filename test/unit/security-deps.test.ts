/**
 * The dependency audits' parsers (src/security/deps.ts) on samples written here in the shape the
 * tools document: pip-audit's `--format json` (and its older bare list), npm audit's `--json` of
 * npm 7+ and npm 6, and their failures. A run that gave no report is never read as a clean one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { manifestsOf, parseNpmAudit, parsePipAudit, reasonOf, toolPresent } from '../../src/security/deps.ts';

const ok = (stdout: string, code = 0, stderr = '') => ({ code, stdout, stderr });

describe('pip-audit', () => {
  const report = {
    dependencies: [
      { name: 'flask', version: '0.12.2', vulns: [{ id: 'PYSEC-2018-66', fix_versions: ['0.12.3', '1.0'], aliases: ['CVE-2018-1000656'], description: '' }, { id: 'PYSEC-2019-179', fix_versions: ['1.0'], aliases: ['CVE-2019-1010083'] }] },
      { name: 'requests', version: '2.31.0', vulns: [] },
      { name: 'oldlib', version: '0.1', vulns: [{ id: 'GHSA-aaaa-bbbb-cccc', fix_versions: [], aliases: [] }] },
      { name: 'mitong-backend', skip_reason: 'Dependency not found on PyPI and could not be audited: mitong-backend (1.4.0)' },
    ],
    fixes: [],
  };

  test('exit 1 with a report: the vulnerable packages with ids, aliases and fixes; skipped ones listed', () => {
    const r = parsePipAudit(ok(JSON.stringify(report), 1, 'Found 3 known vulnerabilities in 2 packages\n'));
    assert.ok(r.checked);
    assert.equal(r.packages, 3);
    assert.deepEqual(r.skipped, ['mitong-backend']);
    assert.deepEqual(r.vulnerable, [
      { name: 'flask', version: '0.12.2', ids: ['PYSEC-2018-66', 'CVE-2018-1000656', 'PYSEC-2019-179', 'CVE-2019-1010083'], fix: ['0.12.3', '1.0'] },
      { name: 'oldlib', version: '0.1', ids: ['GHSA-aaaa-bbbb-cccc'], fix: [] },
    ]);
  });

  test('exit 0, nothing vulnerable: checked with the count', () => {
    const r = parsePipAudit(ok(JSON.stringify({ dependencies: [{ name: 'requests', version: '2.31.0', vulns: [] }], fixes: [] })));
    assert.deepEqual(r, { checked: true, packages: 1, vulnerable: [], skipped: [] });
  });

  test('the older bare list is read too', () => {
    const r = parsePipAudit(ok(JSON.stringify([{ name: 'jinja2', version: '2.10', vulns: [{ id: 'PYSEC-2019-217', fix_versions: ['2.10.1'], aliases: [] }] }]), 1));
    assert.ok(r.checked && r.vulnerable[0].name === 'jinja2' && r.vulnerable[0].fix[0] === '2.10.1');
  });

  test('offline: no JSON, a connection error on stderr is "index unreachable" with the tool\'s reason', () => {
    const stderr = 'ERROR:pip_audit._cli:Could not connect to PyPI\'s vulnerability feed\nERROR:pip_audit._cli:Tip: your network may be blocking this service.\n';
    assert.deepEqual(parsePipAudit({ code: 1, stdout: '', stderr }), { checked: false, why: 'unreachable', detail: "ERROR:pip_audit._cli:Could not connect to PyPI's vulnerability feed" });
    const trace = [
      'Traceback (most recent call last):',
      '  File "/usr/local/lib/python3.11/site-packages/urllib3/connection.py", line 203, in _new_conn',
      "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded with url: /pypi/flask/0.12.2/json (Caused by NameResolutionError(\"Failed to resolve 'pypi.org' ([Errno -3] Temporary failure in name resolution)\"))",
    ].join('\n');
    const r = parsePipAudit({ code: 1, stdout: '', stderr: trace });
    assert.equal(r.checked, false);
    assert.ok(!r.checked && r.why === 'unreachable' && r.detail.startsWith('requests.exceptions.ConnectionError') && r.detail.length <= 240, JSON.stringify(r));
  });

  test('another failure, a timeout and a cut-off report are not checked, never clean', () => {
    assert.deepEqual(parsePipAudit({ code: 2, stdout: '', stderr: 'pip-audit: error: unrecognized arguments: --desc\n' }), { checked: false, why: 'failed', detail: 'pip-audit: error: unrecognized arguments: --desc' });
    assert.deepEqual(parsePipAudit({ code: null, stdout: '', stderr: '' }), { checked: false, why: 'timeout', detail: '' });
    assert.deepEqual(parsePipAudit({ code: 1, stdout: '{"dependencies": [{"name": "fl', stderr: '', truncated: true }), { checked: false, why: 'too_large', detail: '' });
    assert.deepEqual(parsePipAudit({ code: 0, stdout: 'not json', stderr: '' }), { checked: false, why: 'failed', detail: 'not json' });
  });
});

describe('npm audit', () => {
  const v2 = {
    auditReportVersion: 2,
    vulnerabilities: {
      minimist: {
        name: 'minimist', severity: 'critical', isDirect: false,
        via: [{ source: 1096000, name: 'minimist', dependency: 'minimist', title: 'Prototype Pollution in minimist', url: 'https://github.com/advisories/GHSA-xvch-5gv4-984h', severity: 'critical', range: '<0.2.4' }],
        effects: ['mkdirp'], range: '<0.2.4', nodes: ['node_modules/minimist'], fixAvailable: true,
      },
      mkdirp: { name: 'mkdirp', severity: 'critical', isDirect: true, via: ['minimist'], effects: [], range: '0.4.1 - 0.5.1', nodes: ['node_modules/mkdirp'], fixAvailable: { name: 'mkdirp', version: '0.5.6', isSemVerMajor: false } },
      'left-pad': { name: 'left-pad', severity: 'low', isDirect: true, via: [{ source: 1, name: 'left-pad', url: 'https://github.com/advisories/GHSA-0000-1111-2222', severity: 'low' }], effects: [], range: '*', nodes: [], fixAvailable: false },
    },
    metadata: { vulnerabilities: { info: 0, low: 1, moderate: 0, high: 0, critical: 2, total: 3 }, dependencies: { prod: 40, dev: 0, optional: 0, peer: 0, peerOptional: 0, total: 41 } },
  };

  test('npm 7+: each package with its severity, advisory, range and fix, worst first', () => {
    const r = parseNpmAudit(ok(JSON.stringify(v2), 1));
    assert.ok(r.checked);
    assert.equal(r.packages, 41);
    assert.deepEqual(r.vulnerable, [
      { name: 'minimist', version: '<0.2.4', ids: ['GHSA-xvch-5gv4-984h'], fix: ['npm audit fix'], severity: 'critical' },
      { name: 'mkdirp', version: '0.4.1 - 0.5.1', ids: ['via minimist'], fix: ['mkdirp@0.5.6'], severity: 'critical' },
      { name: 'left-pad', version: '*', ids: ['GHSA-0000-1111-2222'], fix: [], severity: 'low' },
    ]);
  });

  test('npm 7+ with nothing found: checked and clean', () => {
    const r = parseNpmAudit(ok(JSON.stringify({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 }, dependencies: { total: 12 } } })));
    assert.deepEqual(r, { checked: true, packages: 12, vulnerable: [], skipped: [] });
  });

  test('npm 6 advisories are grouped by package, with the installed versions', () => {
    const v1 = {
      advisories: {
        1179: { id: 1179, module_name: 'minimist', severity: 'low', github_advisory_id: 'GHSA-vh95-rmgr-6w4m', patched_versions: '>=1.2.3', findings: [{ version: '1.2.0', paths: ['mkdirp>minimist'] }], url: 'https://npmjs.com/advisories/1179' },
        1500: { id: 1500, module_name: 'minimist', severity: 'high', patched_versions: '>=1.2.6', findings: [{ version: '1.2.0', paths: [] }], url: 'https://npmjs.com/advisories/1500' },
      },
      metadata: { vulnerabilities: { info: 0, low: 1, moderate: 0, high: 1, critical: 0 }, totalDependencies: 30 },
    };
    const r = parseNpmAudit(ok(JSON.stringify(v1), 1));
    assert.ok(r.checked);
    assert.equal(r.packages, 30);
    assert.deepEqual(r.vulnerable, [{ name: 'minimist', version: '1.2.0', ids: ['GHSA-vh95-rmgr-6w4m', '1500'], fix: ['>=1.2.3', '>=1.2.6'], severity: 'high' }]);
  });

  test('an error object is a reason, never a result: unreachable registry, no lockfile, others', () => {
    const enotfound = { error: { code: 'ENOTFOUND', summary: 'request to https://registry.npmjs.org/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org', detail: '' } };
    const r = parseNpmAudit({ code: 1, stdout: JSON.stringify(enotfound), stderr: 'npm ERR! code ENOTFOUND\n' });
    assert.ok(!r.checked && r.why === 'unreachable' && r.detail.includes('getaddrinfo ENOTFOUND registry.npmjs.org'), JSON.stringify(r));
    const eai = parseNpmAudit({ code: 1, stdout: '', stderr: JSON.stringify({ error: { code: 'EAI_AGAIN', summary: 'request failed', detail: '' } }) });
    assert.ok(!eai.checked && eai.why === 'unreachable', JSON.stringify(eai));
    const nolock = parseNpmAudit({ code: 1, stdout: JSON.stringify({ error: { code: 'ENOLOCK', summary: 'This command requires an existing lockfile.', detail: 'Try creating one first with: npm i --package-lock-only' } }), stderr: '' });
    assert.deepEqual(nolock, { checked: false, why: 'no_lockfile', detail: 'This command requires an existing lockfile.' });
    const other = parseNpmAudit({ code: 1, stdout: JSON.stringify({ error: { code: 'E500', summary: 'Internal Server Error', detail: '' } }), stderr: '' });
    assert.deepEqual(other, { checked: false, why: 'failed', detail: 'E500: Internal Server Error' });
  });

  test('no JSON at all, or a timeout: not checked', () => {
    assert.deepEqual(parseNpmAudit({ code: 1, stdout: '', stderr: 'npm ERR! network request to https://registry.npmjs.org failed, reason: connect ECONNREFUSED 127.0.0.1:443\n' }).checked, false);
    assert.deepEqual(parseNpmAudit({ code: 1, stdout: '{"unexpected": true}', stderr: '' }).checked, false);
    assert.deepEqual(parseNpmAudit({ code: null, stdout: '', stderr: '' }), { checked: false, why: 'timeout', detail: '' });
  });
});

describe('probes', () => {
  test('a program Docker cannot find is absent; one that runs, or runs badly, is present', () => {
    assert.equal(toolPresent({ code: 126, stdout: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "npm": executable file not found in $PATH: unknown\r\n', stderr: '' }), false);
    assert.equal(toolPresent({ code: 127, stdout: '', stderr: 'exec: "pip-audit": executable file not found in $PATH' }), false);
    assert.equal(toolPresent({ code: 0, stdout: 'pip-audit 2.7.3\n', stderr: '' }), true);
    assert.equal(toolPresent({ code: 1, stdout: '', stderr: 'ModuleNotFoundError: No module named pip_audit' }), true);
    assert.equal(toolPresent({ code: null, stdout: '', stderr: '' }), 'timeout');
  });

  test('ls lists the manifests that exist and complains of the rest', () => {
    assert.deepEqual(manifestsOf({ code: 1, stdout: 'package.json\n', stderr: 'ls: package-lock.json: No such file or directory\n' }), { packageJson: true, lockfile: false });
    assert.deepEqual(manifestsOf({ code: 1, stdout: '', stderr: 'ls: package.json: No such file or directory\n' }), { packageJson: false, lockfile: false });
    assert.deepEqual(manifestsOf({ code: 0, stdout: 'package.json\npackage-lock.json\nnpm-shrinkwrap.json\n', stderr: '' }), { packageJson: true, lockfile: true });
    assert.equal(manifestsOf({ code: 126, stdout: 'exec: "ls": executable file not found', stderr: '' }), undefined);
  });

  test('reasonOf keeps one short line', () => {
    assert.equal(reasonOf('a\n\nlast line\n'), 'last line');
    assert.equal(reasonOf('x'.repeat(500)).length, 240);
  });
});
