import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.ts';
import { Readers } from '../../src/i18n/readers.ts';

const config = (doc: unknown) => parseConfig(doc, 'test.yaml');

test('channel posts follow channels.<name>.locale, else config locale', () => {
  const c = config({ locale: 'en', timezone: 'Asia/Shanghai', channels: { ops: 'C0OPS', inc: { id: 'C0INC', locale: 'zh-CN' } } });
  const readers = new Readers(c);
  assert.equal(readers.forChannel('C0INC').locale, 'zh-CN');
  assert.equal(readers.forChannel('C0OPS').locale, 'en');
  assert.equal(readers.forChannel('C0OTHER').locale, 'en');
  assert.equal(readers.forChannel('C0INC').timeZone, 'Asia/Shanghai');
  readers.override = 'zh-CN';
  assert.equal(readers.forChannel('C0OPS').locale, 'zh-CN');
});

test("a caller's Slack locale is looked up once and cached; other locales and actors read the default", async () => {
  const calls: string[] = [];
  const slack: Record<string, string | undefined> = { U1: 'zh-CN', U2: 'en-US', U3: 'ja-JP', U4: 'zh-TW' };
  const readers = new Readers(config({ locale: 'en' }), async (user) => {
    calls.push(user);
    return slack[user];
  });
  assert.equal((await readers.forUser('U1')).locale, 'zh-CN');
  assert.equal((await readers.forUser('U1')).locale, 'zh-CN');
  assert.equal((await readers.forUser('U2')).locale, 'en');
  assert.equal((await readers.forUser('U3')).locale, 'en', 'a locale the catalogs lack reads the default');
  assert.equal((await readers.forUser('U4')).locale, 'zh-CN');
  assert.equal((await readers.forUser('schedule:daily-health')).locale, 'en', 'not a Slack user: no lookup');
  assert.deepEqual(calls, ['U1', 'U2', 'U3', 'U4']);

  const withChannels = new Readers(config({ locale: 'en', channels: { ops: { id: 'C0OPS', locale: 'zh-CN' } } }), async () => 'en-US');
  assert.equal((await withChannels.forUser('schedule:daily-health', 'C0OPS')).locale, 'zh-CN', "a schedule's replies read its channel's language");
});

test('a failed or slow lookup answers in the default language and does not retry on every command', async () => {
  let now = 0;
  let calls = 0;
  const failing = new Readers(config({ locale: 'zh-CN' }), async () => {
    calls++;
    throw new Error('ratelimited');
  }, undefined, () => now);
  assert.equal((await failing.forUser('U1')).locale, 'zh-CN');
  assert.equal((await failing.forUser('U1')).locale, 'zh-CN');
  assert.equal(calls, 1);
  now += 6 * 60_000;
  await failing.forUser('U1');
  assert.equal(calls, 2, 'retried after the back-off');

  const slow = new Readers(config({ locale: 'en' }), () => new Promise((resolve) => setTimeout(() => resolve('zh-CN'), 3000)));
  const t0 = performance.now();
  assert.equal((await slow.forUser('U9')).locale, 'en', 'the reply is not held up by a slow lookup');
  assert.ok(performance.now() - t0 < 2900);
  await new Promise((r) => setTimeout(r, 1700));
  assert.equal((await slow.forUser('U9')).locale, 'zh-CN', 'the late answer is cached for the next command');
});

test('timezone and channel locales are validated', () => {
  const problems = (doc: unknown) => {
    try {
      config(doc);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems.join('\n');
    }
    return '';
  };
  assert.match(problems({ timezone: 'Mars/Olympus' }), /timezone: Unknown time zone/);
  assert.match(problems({ channels: { ops: { id: 'C0OPS', locale: 'fr' } } }), /channels\.ops/);
  assert.match(problems({ channels: { ops: 'not-a-channel' } }), /channels\.ops/);
  assert.equal(config({}).timezone, 'UTC');
});
