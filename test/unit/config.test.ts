import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { placeholderFingerprint } from '../../src/config/fingerprint.ts';

const root = mkdtempSync(join(tmpdir(), 'opsbot-config-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** Writes `text` as opsbot.yaml in a fresh directory and returns its path. */
function configFile(text: string, extra: Record<string, string> = {}): string {
  const dir = join(root, `c${++n}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(extra)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const file = join(dir, 'opsbot.yaml');
  writeFileSync(file, text);
  return file;
}

/** A fingerprint as ssh-keygen prints one (random, so not a placeholder). */
const FINGERPRINT = 'SHA256:K2zCb+SPt78dvRrO1mbuDlEYezTfGRMIFZ3CCReZqZY';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

/** Asserts that some problem line starts with `path:` (and, if given, matches `re`). */
function assertProblem(problems: string[], path: string, re?: RegExp): void {
  const hit = problems.find((p) => p.startsWith(`${path}:`) && (!re || re.test(p)));
  assert.ok(hit, `no problem reported at ${path}${re ? ` matching ${re}` : ''}; got:\n  ${problems.join('\n  ')}`);
}

describe('defaults', () => {
  test('without any config file the bot targets the local stack', () => {
    const emptyDir = mkdtempSync(join(root, 'empty-'));
    const { config, source } = loadConfig({}, emptyDir);
    assert.equal(source, 'built-in defaults');
    const pg = new URL(config.targets.postgres.main.url);
    assert.equal(pg.hostname, '127.0.0.1');
    assert.equal(pg.port, '5432');
    const redis = new URL(config.targets.redis.cache.url);
    assert.equal(redis.hostname, '127.0.0.1');
    assert.equal(redis.port, '6379');
    assert.equal(config.targets.local, true);
    assert.equal(config.rate_limit.enabled, true);
    assert.equal(config.rate_limit.requests_per_minute, 60);
    assert.equal(config.health.timeout, 5000);
    assert.equal(config.approvals.ttl, 30 * 60_000);
    assert.equal(config.locale, 'en');
  });

  test('config/opsbot.yaml under cwd is used when OPSBOT_CONFIG is unset', () => {
    const file = configFile('rate_limit: { requests_per_minute: 7 }\n');
    const dir = join(file, '..');
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'opsbot.yaml'), 'rate_limit: { requests_per_minute: 9 }\n');
    assert.equal(loadConfig({}, dir).config.rate_limit.requests_per_minute, 9);
    assert.equal(loadConfig({ OPSBOT_CONFIG: 'opsbot.yaml' }, dir).config.rate_limit.requests_per_minute, 7);
  });

  test('{} means the schema defaults', () => {
    const config = loadConfigFile(configFile('{}\n'), {});
    assert.equal(config.rate_limit.requests_per_minute, 60);
    assert.deepEqual(config.roles, {});
    assert.deepEqual(config.targets.postgres, {});
  });

  test('durations are given in words and come out in milliseconds', () => {
    const config = parseConfig({ health: { timeout: '250ms' }, approvals: { ttl: '2h' } }, 't');
    assert.equal(config.health.timeout, 250);
    assert.equal(config.approvals.ttl, 2 * 3_600_000);
  });
});

describe('interpolation', () => {
  test('${NAME} and ${NAME:-default} take values from the env passed in, not process.env', () => {
    process.env.OPSBOT_TEST_ONLY_IN_PROCESS = 'redis://wrong:1/0';
    const parse = () => parseConfig(
      {
        targets: {
          postgres: { main: { url: '${PG_URL}' }, other: { url: 'postgres://${PG_USER:-postgres}@${PG_HOST:-db.local}:5432/x' } },
          redis: { cache: { url: '${OPSBOT_TEST_ONLY_IN_PROCESS:-redis://127.0.0.1:6390/1}' } },
        },
      },
      't',
      { PG_URL: 'postgres://ops:pw@10.0.0.9:5433/mitong_devops', PG_HOST: 'db.prod' },
    );
    let config;
    try {
      config = parse();
    } finally {
      delete process.env.OPSBOT_TEST_ONLY_IN_PROCESS;
    }
    assert.equal(config.targets.postgres.main.url, 'postgres://ops:pw@10.0.0.9:5433/mitong_devops');
    assert.equal(config.targets.postgres.other.url, 'postgres://postgres@db.prod:5432/x');
    assert.equal(config.targets.redis.cache.url, 'redis://127.0.0.1:6390/1');
  });

  test('an empty env value falls back to the :-default', () => {
    const config = parseConfig({ targets: { docker: { d: { socket: '${BACKUP_DIR:-/srv/backups}' } } } }, 't', { BACKUP_DIR: '' });
    assert.equal(config.targets.docker.d.socket, '/srv/backups');
  });

  test('${file:path} reads a file relative to the config file, trailing newline trimmed', () => {
    const file = configFile('targets:\n  postgres:\n    main: { url: "${file:secrets/pg-url}" }\n', {
      'secrets/pg-url': 'postgres://ops:fromfile@10.1.1.1:5432/mitong_devops\n',
    });
    // cwd is not the config's directory, so a cwd-relative read would fail.
    assert.notEqual(process.cwd(), join(file, '..'));
    const config = loadConfigFile(file, {});
    assert.equal(config.targets.postgres.main.url, 'postgres://ops:fromfile@10.1.1.1:5432/mitong_devops');
  });

  test('a missing env var is reported at the path that uses it', () => {
    const problems = problemsOf(() => parseConfig({ targets: { postgres: { main: { url: '${PG_URL}' } } } }, 't', {}));
    assertProblem(problems, 'targets.postgres.main.url', /PG_URL/);
  });

  test('an unreadable ${file:} is reported at its path', () => {
    const file = configFile(`targets:\n  hosts:\n    app1: { address: 10.0.0.5, user: ops, privateKey: "\${file:keys/missing}", hostKey: "${FINGERPRINT}" }\n`);
    const problems = problemsOf(() => loadConfigFile(file, {}));
    assertProblem(problems, 'targets.hosts.app1.privateKey', /keys\/missing/);
  });

  test('a value from the environment cannot change the document structure', () => {
    const config = parseConfig({ targets: { docker: { d: { socket: '${EVIL}' } } } }, 't', { EVIL: '/x\nroles: { admin: [U0EVIL] }' });
    assert.deepEqual(config.roles, {});
    assert.equal(config.targets.docker.d.socket, '/x\nroles: { admin: [U0EVIL] }');
  });
});

const BAD_YAML = `
locale: en
colour: blue
roles:
  operator: [U0ONCALL]
permissions:
  restart: [operator, wizard]
targets:
  postgres:
    main: { url: "mysql://root@127.0.0.1/x" }
  hosts:
    app1: { address: 10.0.0.5, user: ops, privateKeyFile: keys/id, hostKey: "md5:aa:bb" }
approvals:
  ttl: 30 minutes
`;

describe('invalid config', () => {
  test('a malformed file lists every problem, each by its path', () => {
    const problems = problemsOf(() => loadConfigFile(configFile(BAD_YAML), {}));
    assertProblem(problems, 'targets.postgres.main.url', /Invalid URL/);
    assertProblem(problems, 'targets.hosts.app1.hostKey');
    assertProblem(problems, 'approvals.ttl', /30 minutes/);
    assert.ok(problems.some((p) => p.includes('colour')), `unknown top-level key named; got ${problems.join(' | ')}`);
    assertProblem(problems, 'permissions.restart.1', /wizard/);
  });

  test('an unknown role in the { roles, channels } form is reported at its own path', () => {
    const problems = problemsOf(() => parseConfig({ roles: { operator: ['U1'] }, permissions: { restart: { roles: ['wizard'] } } }, 't'));
    assertProblem(problems, 'permissions.restart.roles.0', /wizard/);
  });

  test('unknown roles in approval rules and unknown targets in services are reported', () => {
    const problems = problemsOf(() =>
      parseConfig({ roles: { approver: ['U1'] }, approvals: { rules: { restore: { approvers: ['manager'] } } }, services: { backend: { docker: 'nowhere', host: 'nohost' } } }, 't'),
    );
    assertProblem(problems, 'approvals.rules.restore.approvers.0', /manager/);
    assertProblem(problems, 'services.backend.docker', /nowhere/);
    assertProblem(problems, 'services.backend.host', /nohost/);
  });

  test('a misspelt nested key is reported, not silently ignored', () => {
    const problems = problemsOf(() => parseConfig({ rate_limit: { requests_per_minit: 5 } }, 't'));
    assert.ok(problems.some((p) => p.includes('requests_per_minit')), `got ${problems.join(' | ')}`);
  });

  test('the message of a ConfigError names the source and every problem', () => {
    try {
      loadConfigFile(configFile('locale: fr\nrate_limit: { requests_per_minute: -1 }\n'), {});
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.problems.length, 2);
      assert.match(err.message, /opsbot\.yaml/);
      for (const p of err.problems) assert.ok(err.message.includes(p), `message lacks ${p}`);
    }
  });

  test('YAML syntax errors are a ConfigError with a line number', () => {
    const problems = problemsOf(() => loadConfigFile(configFile('roles:\n  operator: [U1\nlocale: en\n'), {}));
    assert.ok(problems.length > 0, 'no problems listed');
    assert.ok(problems.some((p) => /line \d+/.test(p)), problems.join(' | '));
  });

  test('a missing file is a ConfigError', () => {
    const problems = problemsOf(() => loadConfigFile(join(root, 'does-not-exist.yaml'), {}));
    assert.match(problems[0], /ENOENT/);
  });
});

const cli = (file: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config', file], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
    env: { ...process.env, OPSBOT_CONFIG: '', LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });

describe('opsbot check-config', () => {

  test('a bad file exits non-zero and prints every problem path to stderr', () => {
    const r = cli(configFile(BAD_YAML));
    assert.notEqual(r.status, 0, r.stdout);
    for (const path of ['targets.postgres.main.url', 'targets.hosts.app1.hostKey', 'approvals.ttl', 'colour']) {
      assert.ok(r.stderr.includes(path), `stderr lacks ${path}:\n${r.stderr}`);
    }
  });

  test('a good file exits 0', () => {
    const good = `
roles: { operator: [U0ONCALL], approver: [S0MANAGERS] }
permissions: { restart: [operator] }
targets:
  postgres: { main: { url: "postgres://postgres@127.0.0.1:5432/mitong_devops" } }
  docker: { local: { socket: /var/run/docker.sock } }
services:
  backend: { docker: local, container: mitong-backend-1 }
approvals: { ttl: 15m, rules: { restart: { approvers: [approver] } } }
`;
    const r = cli(configFile(good));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });
});

/**
 * Configs that used to pass check-config and then broke the bot. Each gives one `path: message`
 * line, from loadConfigFile and from the CLI (exit code 2).
 */
describe('what check-config refuses', () => {
  const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDummyDummyDummyDummyDummyDummyDummyDum\n-----END PRIVATE KEY-----\n';
  const host = (extra: string) => `targets:\n  hosts:\n    app1: { address: 10.0.0.5, user: ops, ${extra} }\n`;
  const cases: Array<{ name: string; yaml: string; files?: Record<string, string>; path: string; re: RegExp }> = [
    { name: 'a timeout past Node\'s timer limit', yaml: 'health: { timeout: 30d }\n', path: 'health.timeout', re: /30d is too long: at most 10 m/ },
    { name: 'a sweep interval past the limit', yaml: 'approvals: { sweep_interval: 30d }\n', path: 'approvals.sweep_interval', re: /too long: at most 1 h/ },
    { name: 'a duration past the timer limit itself', yaml: 'health: { thresholds: { container_recent_restart: 25d } }\n', path: 'health.thresholds.container_recent_restart', re: /the longest timer Node\.js can set is 24 d 20 h \(2\^31-1 ms\)/ },
    { name: 'a timeout in milliseconds past the limit', yaml: 'targets: { redis: { cache: { url: "redis://127.0.0.1:6379/0", timeout: 2147483648 } } }\n', path: 'targets.redis.cache.timeout', re: /2147483648 ms is too long/ },
    { name: 'an interval of 0, which would spin', yaml: 'approvals: { lease: 0 }\n', path: 'approvals.lease', re: /too short: at least 100 ms/ },
    { name: 'the example\'s placeholder hostKey', yaml: host(`privateKey: x, hostKey: "SHA256:REPLACEwithTheFingerprintOfApp1sHostKey0000"`), path: 'targets.hosts.app1.hostKey', re: /placeholder.*REPLACE.*ssh-keyscan -t ed25519 10\.0\.0\.5/ },
    { name: 'an all-same-character hostKey', yaml: host(`privateKey: x, hostKey: "SHA256:${'A'.repeat(43)}"`), path: 'targets.hosts.app1.hostKey', re: /placeholder.*repeats one character/ },
    { name: 'a hostKey that is no SHA-256 digest', yaml: host(`privateKey: x, hostKey: "SHA256:K2zCb+SPt78dvRrO1mbuDlEYezTfGRMIFZ3CCReZqZZ"`), path: 'targets.hosts.app1.hostKey', re: /not the base64 of a SHA-256 digest/ },
    { name: 'a missing privateKeyFile, relative to the config file', yaml: host(`privateKeyFile: keys/id_ed25519, hostKey: "${FINGERPRINT}"`), path: 'targets.hosts.app1.privateKeyFile', re: /cannot read \/.*\/c\d+\/keys\/id_ed25519 \(ENOENT\)/ },
    { name: 'a privateKeyFile that is a directory', yaml: host(`privateKeyFile: keys, hostKey: "${FINGERPRINT}"`), files: { 'keys/x': '' }, path: 'targets.hosts.app1.privateKeyFile', re: /is not a file/ },
    { name: 'the public key given as privateKeyFile', yaml: host(`privateKeyFile: keys/id.pub, hostKey: "${FINGERPRINT}"`), files: { 'keys/id.pub': 'ssh-ed25519 AAAAC3Nza ops@app1\n' }, path: 'targets.hosts.app1.privateKeyFile', re: /is a public key/ },
    { name: 'an empty file', yaml: '', path: '(root)', re: /the file is empty/ },
    { name: 'a file of comments only', yaml: '# opsbot config\n# (to do)\n', path: '(root)', re: /the file is empty/ },
    { name: 'an unclosed ${', yaml: 'targets: { docker: { d: { socket: "/srv/${BACKUP_DIR" } } }\n', path: 'targets.docker.d.socket', re: /unclosed \$\{/ },
    { name: 'an unclosed ${ after a good reference', yaml: 'targets: { docker: { d: { socket: "${HOME:-/root}/${x" } } }\n', path: 'targets.docker.d.socket', re: /unclosed \$\{/ },
    { name: 'a reference nested in a default', yaml: 'targets: { docker: { d: { socket: "${A:-${B}}" } } }\n', path: 'targets.docker.d.socket', re: /nested reference/ },
    { name: 'a recursive YAML alias', yaml: 'roles: &x { admin: [*x] }\n', path: 'roles.admin.0', re: /recursive YAML alias/ },
    { name: 'a recursive alias at an unknown key', yaml: 'a: &x [*x]\n', path: 'a.0', re: /recursive YAML alias/ },
    {
      name: 'an alias bomb',
      yaml: `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [${'*a, '.repeat(9)}*a]\nc: &c [${'*b, '.repeat(9)}*b]\nd: [${'*c, '.repeat(9)}*c]\n`,
      path: '(root)', re: /YAML: Excessive alias count/,
    },
    { name: 'a short metrics token', yaml: 'metrics: { token: secret }\n', path: 'metrics.token', re: /at least 16 characters/ },
    { name: 'a malformed metrics.listen', yaml: 'metrics: { listen: "localhost:metrics" }\n', path: 'metrics.listen', re: /Invalid listen address/ },
  ];
  const files = new Map(cases.map((c) => [c, configFile(c.yaml, c.files)]));

  for (const c of cases) {
    test(`loadConfigFile: ${c.name}`, () => {
      const problems = problemsOf(() => loadConfigFile(files.get(c)!, { HOME: '/root' }));
      assertProblem(problems, c.path, c.re);
      // One clear line, not the same problem again as a type error.
      assert.equal(problems.filter((p) => p.startsWith(`${c.path}:`)).length, 1, problems.join('\n'));
    });
  }

  test('the CLI exits 2 and prints `path: message` for each', () => {
    // Several problems in one file are reported together; whole-file problems each need a run.
    const together = configFile([
      'health: { timeout: 30d }',
      'approvals: { sweep_interval: 30d }',
      'shutdown: { grace: "${GRACE" }',
      'metrics: { token: secret }',
      host(`privateKeyFile: keys/id_ed25519, hostKey: "SHA256:REPLACEwithTheFingerprintOfApp1sHostKey0000"`),
    ].join('\n'));
    const runs: Array<[string, RegExp[]]> = [
      [together, [/^ {2}- health\.timeout: 30d is too long/m, /^ {2}- approvals\.sweep_interval: 30d is too long/m, /^ {2}- shutdown\.grace: unclosed \$\{/m,
        /^ {2}- metrics\.token: /m, /^ {2}- targets\.hosts\.app1\.hostKey: .*placeholder/m, /^ {2}- targets\.hosts\.app1\.privateKeyFile: cannot read .*ENOENT/m]],
      [configFile(''), [/^ {2}- \(root\): the file is empty/m]],
      [configFile('a: &x [*x]\n'), [/^ {2}- a\.0: recursive YAML alias/m]],
      [files.get(cases.find((c) => c.name === 'an alias bomb')!)!, [/^ {2}- \(root\): YAML: Excessive alias count/m]],
    ];
    for (const [file, expected] of runs) {
      const r = cli(file);
      assert.equal(r.status, 2, `${file}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, /^opsbot: invalid config /);
      for (const re of expected) assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /Maximum call stack|at .*\.ts:\d+/);
    }
  });

  test('a real fingerprint and an existing key file, relative to the config file, pass', () => {
    const file = configFile(host(`privateKeyFile: keys/id_ed25519, hostKey: "${FINGERPRINT}"`), { 'keys/id_ed25519': KEY_PEM });
    const config = loadConfigFile(file, {});
    assert.equal(config.targets.hosts.app1.privateKeyFile, join(file, '..', 'keys', 'id_ed25519'));
  });

  test('the key file is not required when privateKey is given too (privateKey wins)', () => {
    const config = loadConfigFile(configFile(host(`privateKeyFile: keys/none, privateKey: x, hostKey: "${FINGERPRINT}"`)), {});
    assert.equal(config.targets.hosts.app1.privateKey, 'x');
  });

  test('no real fingerprint is taken for a placeholder', () => {
    for (let i = 0; i < 20_000; i++) {
      const fp = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
      assert.equal(placeholderFingerprint(fp), undefined, fp);
    }
  });

  test('durations up to each bound pass, and a value from the environment may hold "${"', () => {
    const config = parseConfig({
      health: { timeout: '10m', thresholds: { container_recent_restart: 2 ** 31 - 1 } },
      approvals: { sweep_interval: '1h', lease: '100ms', ttl: '7d' },
      targets: { docker: { d: { socket: '${DIR}' } } },
    }, 't', { DIR: '/srv/${not-a-reference' });
    assert.equal(config.health.timeout, 600_000);
    assert.equal(config.health.thresholds.container_recent_restart, 2 ** 31 - 1);
    assert.equal(config.approvals.ttl, 7 * 86_400_000);
    assert.equal(config.targets.docker.d.socket, '/srv/${not-a-reference');
  });

  test('metrics.listen takes host:port, [v6]:port, :port and a bare port', () => {
    const listen = (value: unknown) => parseConfig({ metrics: { listen: value } }, 't').metrics.listen;
    assert.deepEqual(listen('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(listen('[::1]:9100'), { host: '::1', port: 9100 });
    assert.deepEqual(listen(':9100'), { host: undefined, port: 9100 });
    assert.deepEqual(listen(9100), { host: undefined, port: 9100 });
    assert.deepEqual(listen('metrics.internal:0'), { host: 'metrics.internal', port: 0 });
    assertProblem(problemsOf(() => listen('127.0.0.1:70000')), 'metrics.listen');
  });
});
