import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';

function problemsOf(doc: Record<string, unknown>): string[] {
  try {
    parseConfig(doc, 't');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return assert.fail('expected a ConfigError');
}

test('a secret gets sane defaults: 32 random bytes in hex, no services, kept beside the file, 90 days', () => {
  const config = parseConfig({ secrets: { app_key: { host: 'local', file: '/srv/keys/app_key', passphrase_file: '/etc/opsbot/pass' } } }, 't');
  const s = config.secrets.app_key;
  assert.deepEqual(s.generate, { random_bytes: 32, encoding: 'hex' });
  assert.deepEqual(s.services, []);
  assert.equal(s.keep_dir, undefined);
  assert.equal(s.max_age, 90 * 86_400_000);
});

test('a generate command is an argv list with a timeout; a shell string is refused', () => {
  const config = parseConfig({ secrets: { k: { host: 'local', file: '/k', passphrase_file: '/p', generate: { command: ['python3', '/opt/gen.py'] } } } }, 't');
  assert.deepEqual(config.secrets.k.generate, { command: ['python3', '/opt/gen.py'], timeout: 30_000 });
  const problems = problemsOf({ secrets: { k: { host: 'local', file: '/k', passphrase_file: '/p', generate: { command: 'python3 /opt/gen.py' } } } });
  assert.ok(problems.some((p) => p.startsWith('secrets.k.generate')), problems.join('\n'));
});

test('the host, the services, the paths and the passphrase file are checked', () => {
  const problems = problemsOf({
    targets: { local: false },
    services: { web: { host: 'local' } },
    secrets: {
      a: { host: 'nohost', file: 'relative/key', services: ['nosuch', 'web'] },
      b: { host: 'local', file: '/k', passphrase_file: '/p' },
    },
  }).join('\n');
  assert.match(problems, /secrets\.a\.host.*Unknown host "nohost"/);
  assert.match(problems, /secrets\.a\.file/);
  assert.match(problems, /secrets\.a\.passphrase_file/);
  assert.match(problems, /secrets\.a\.services\.0.*Unknown service "nosuch"/);
  assert.match(problems, /secrets\.a\.services\.1.*Service "web" has no docker and container to restart/);
  assert.match(problems, /secrets\.b\.host.*Host "local" is switched off/);
});
