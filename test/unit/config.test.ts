import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadConfigFile, parseConfig } from '../../src/config/load.ts';

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

  test('an empty file means all defaults', () => {
    const config = loadConfigFile(configFile(''), {});
    assert.equal(config.rate_limit.requests_per_minute, 60);
    assert.deepEqual(config.roles, {});
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
    const config = parseConfig({ backups: { dir: '${BACKUP_DIR:-/srv/backups}' } }, 't', { BACKUP_DIR: '' });
    assert.equal(config.backups.dir, '/srv/backups');
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
    const file = configFile('targets:\n  hosts:\n    app1: { address: 10.0.0.5, user: ops, privateKey: "${file:keys/missing}", hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }\n');
    const problems = problemsOf(() => loadConfigFile(file, {}));
    assertProblem(problems, 'targets.hosts.app1.privateKey', /keys\/missing/);
  });

  test('a value from the environment cannot change the document structure', () => {
    const config = parseConfig({ backups: { dir: '${EVIL}' } }, 't', { EVIL: '/x\nroles: { admin: [U0EVIL] }' });
    assert.deepEqual(config.roles, {});
    assert.equal(config.backups.dir, '/x\nroles: { admin: [U0EVIL] }');
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

describe('opsbot check-config', () => {
  const cli = (file: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config', file], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
      env: { ...process.env, OPSBOT_CONFIG: '', LOG_LEVEL: 'silent' },
      timeout: 60_000,
    });

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
