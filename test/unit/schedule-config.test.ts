/** Config `schedules`: patterns, commands and schedule actors in roles, checked at load with their paths. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { commandNames } from '../../src/main.ts';

function problems(doc: unknown): string[] {
  try {
    parseConfig(doc, 'test', {}, process.cwd(), commandNames());
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return [];
}

test('a valid schedule loads with its defaults, and roles may name its actor', () => {
  const config = parseConfig({
    timezone: 'Asia/Shanghai',
    roles: { operator: ['U0ONCALL', 'schedule:daily-health'] },
    schedules: { 'daily-health': { cron: '0 9 * * *', command: '/health', channel: 'C0OPS' }, fast: { cron: '*/2 * * * * *', command: '/health postgres', channel: 'C0OPS', catch_up: '0s', enabled: false } },
  }, 'test', {}, process.cwd(), commandNames());
  assert.deepEqual(config.schedules['daily-health'], { cron: '0 9 * * *', command: '/health', channel: 'C0OPS', enabled: true, catch_up: 3_600_000 });
  assert.equal(config.schedules.fast.catch_up, 0);
  assert.deepEqual(config.roles.operator, ['U0ONCALL', 'schedule:daily-health']);
});

test('a bad cron pattern, an unknown command and an unknown schedule actor are reported with their paths', () => {
  const got = problems({
    roles: { operator: ['schedule:nightly', 'schedule:Bad Name'] },
    schedules: {
      a: { cron: '0 9 * *', command: '/health', channel: 'C0OPS' },
      b: { cron: '61 * * * *', command: '/helth', channel: 'C0OPS' },
      c: { cron: '0 9 * * *', command: 'health', channel: 'ops' },
    },
  });
  const at = (path: string, re: RegExp) => assert.ok(got.some((p) => p.startsWith(`${path}: `) && re.test(p)), `no ${path} matching ${re} in:\n${got.join('\n')}`);
  at('schedules.a.cron', /Invalid cron pattern "0 9 \* \*": .*five, six/);
  at('schedules.b.cron', /Invalid cron pattern "61 \* \* \* \*": Invalid value for minute: 61/);
  at('schedules.b.command', /Unknown command "\/helth"/);
  at('schedules.c.command', /starting with \//);
  at('schedules.c.channel', /channel ID/);
  at('roles.operator.0', /Unknown schedule "nightly"/);
  at('roles.operator.1', /schedule:<name>/);
});
