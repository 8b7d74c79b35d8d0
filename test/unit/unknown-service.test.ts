/**
 * /logs and /diagnose through the real dispatcher on the built-in default config (no services),
 * and with services configured: an unknown name gets "Unknown service", the choices, a
 * "did you mean", and how to add one, never an internal error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import diagnose from '../../commands/diagnose.ts';
import logs from '../../commands/logs.ts';
import { defaultConfigInput } from '../../src/config/defaults.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { AuditLog } from '../../src/core/audit.ts';
import { Dispatcher, type Reply } from '../../src/core/dispatch.ts';
import { createLogger } from '../../src/core/log.ts';
import { createMetrics } from '../../src/core/metrics.ts';
import { Rbac } from '../../src/core/rbac.ts';
import { createTargets } from '../../src/targets/index.ts';

function bot(configInput: unknown) {
  const config = parseConfig(configInput, 'test');
  const log = createLogger('silent');
  const outcomes: string[] = [];
  const audit = { record: async (row: { outcome: string }) => void outcomes.push(row.outcome), recent: async () => [] } as unknown as AuditLog;
  const targets = createTargets(config);
  const d = new Dispatcher({ config, commands: [logs, diagnose], targets, audit, rbac: new Rbac(config, undefined, log), log, metrics: createMetrics() });
  return {
    outcomes,
    close: () => targets.close(),
    async run(command: string, text: string): Promise<Reply> {
      const replies: Reply[] = [];
      await d.handle({ command, text, user: 'U0ONCALL', channel: 'C0OPS' }, async (r) => void replies.push(r));
      assert.equal(replies.length, 1);
      return replies[0];
    },
  };
}

describe('on the built-in default config', () => {
  for (const [command, text] of [['/logs', 'backend'], ['/logs', 'backend error --grep x'], ['/diagnose', 'backend']]) {
    test(`${command} ${text}: unknown service, none configured, and how to add one`, async () => {
      const b = bot(defaultConfigInput);
      try {
        const r = await b.run(command, text);
        const summary = r.report.summary ?? '';
        assert.doesNotMatch(summary, /internal error/i);
        assert.match(summary, /^Unknown service "backend": no services are configured\./);
        assert.match(summary, /under `services:` in the config file/);
        assert.match(summary, /docs\/config\.md/);
        assert.equal(r.ephemeral, true);
        assert.ok(r.report.sections?.some((s) => /usage/i.test(s.title)), 'usage is shown');
        assert.deepEqual(b.outcomes, ['invalid']);
      } finally {
        await b.close();
      }
    });
  }
});

test('without a name, on the default config: no services are configured, and how to add one', async () => {
  const b = bot(defaultConfigInput);
  try {
    for (const command of ['/logs', '/diagnose']) {
      const summary = (await b.run(command, '')).report.summary ?? '';
      assert.match(summary, /^Missing service: no services are configured\. Services are defined under `services:`/);
    }
  } finally {
    await b.close();
  }
});

describe('with services configured', () => {
  const config = {
    targets: { local: true, docker: { local: { socket: '/nonexistent/docker.sock' } } },
    services: {
      backend: { host: 'local', logs: { app: '/var/log/app.log' } },
      worker: { docker: 'local', container: 'mitong-worker-1' },
      nginx: { docker: 'local' }, // no container and no log file: nothing for /logs
    },
  };

  test('a typo gets the list, the closest name, and how to add one', async () => {
    const b = bot(config);
    try {
      for (const command of ['/logs', '/diagnose']) {
        const summary = (await b.run(command, 'bakend')).report.summary ?? '';
        const choices = command === '/logs' ? 'backend, worker' : 'backend, worker, nginx';
        assert.match(summary, new RegExp(`^Unknown service "bakend"\\. Choose one of: ${choices}\\. Did you mean backend\\? Services are defined under`));
      }
    } finally {
      await b.close();
    }
  });

  test('/logs of a service that has no log says what to configure', async () => {
    const b = bot(config);
    try {
      const summary = (await b.run('/logs', 'nginx')).report.summary ?? '';
      assert.match(summary, /^nginx has no log configured: give it `host` and `logs\.app`/);
    } finally {
      await b.close();
    }
  });
});

test('services.X.host: local is accepted while targets.local is on, and refused when it is off', () => {
  const svc = { services: { backend: { host: 'local', logs: { app: '/var/log/app.log' } } } };
  assert.equal(parseConfig(svc, 'test').services.backend.host, 'local');
  assert.equal(parseConfig({ ...svc, targets: { local: true } }, 'test').services.backend.host, 'local');
  assert.throws(() => parseConfig({ ...svc, targets: { local: false } }, 'test'), (err: Error) => {
    assert.match(err.message, /services\.backend\.host: Host "local" is switched off \(targets\.local: false\)/);
    return true;
  });
  assert.throws(() => parseConfig({ ...svc, services: { backend: { host: 'app9' } } }, 'test'), /Unknown host "app9"/);
});
