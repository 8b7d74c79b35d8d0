/**
 * The reader's language end to end: /health on real PostgreSQL and Redis in a bot configured for
 * zh-CN reads in Chinese; in an English bot, a caller whose Slack locale is zh-CN gets their own
 * (ephemeral) errors in Chinese while the channel's posts stay English. Expected texts come from
 * the catalogs, so a wording change there does not break the test, a missing translation does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { translator } from '../../src/i18n/index.ts';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { messageText, startTestBot, TOKEN, type TestBot } from '../helpers/bot.ts';

const zh = translator('zh-CN', 'Asia/Shanghai');
const en = translator('en');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A catalog text as a pattern: `holes` name the placeholders that may be anything. */
function pattern(t: typeof zh, key: string, params: Record<string, unknown>, holes: string[]): RegExp {
  const marks = Object.fromEntries(holes.map((h, i) => [h, `\u0001${i}\u0001`]));
  let re = esc(t(key, { ...params, ...marks }));
  for (let i = 0; i < holes.length; i++) re = re.replace(`\u0001${i}\u0001`, '.+?');
  return new RegExp(re.replace(/999/g, '\\d+'));
}

// English prose a check line or footer would have if it were not translated.
const ENGLISH_PROSE = /\b(connections?|used|available|free|cores?|checks?|checked|evicted|clients?|keys?|transaction|memory|load|disk|running|warnings?|critical)\b/;

describe('/health in a bot configured for zh-CN', () => {
  let redis: RedisServer;
  let fake: FakeSlack;
  let t: TestBot;

  before(async () => {
    redis = await startRedis();
    // The fake answers users.info with en-US for anyone not listed (Slack's default).
    fake = await startFakeSlack({ token: TOKEN, users: { U0ZH: { locale: 'zh-CN' } } });
    const pgUrl = await (await sharedPostgres()).createDatabase('mitong_devops_health_zh');
    t = await startTestBot({
      locale: 'zh-CN',
      timezone: 'Asia/Shanghai',
      targets: { postgres: { main: { url: pgUrl } }, redis: { cache: { url: redis.url } } },
      health: { timeout: '2s' },
    }, { fake });
  });
  after(async () => {
    await t?.close();
    await fake?.stop();
    await redis?.stop();
  });

  test('title, summary, check lines and footer come from the zh-CN catalog, with no English prose', async () => {
    await redis.cli('SET', 'k1', 'v');
    const { reply } = await t.run('/health');
    assert.equal(reply.method, 'chat.postMessage');
    const text = messageText(reply);
    assert.match(text, new RegExp(`^\\*${esc(zh('health:title'))}\\*`));
    const labels = (['ok', 'warn', 'crit'] as const).map((s) => zh(`health:status.${s}`));
    assert.ok(labels.some((l) => text.includes(l)), `one of ${labels.join(' / ')} in:\n${text}`);
    assert.match(text, pattern(zh, 'health:footer.fresh', { count: 999 }, ['took']));
    // The figures are in Chinese sentences: Redis' key count, the host's memory line, PostgreSQL's connections.
    assert.ok(text.includes(zh('checks:redis.keys', { count: 1 })), text);
    assert.ok(text.includes(`*${zh('checks:label.memory', { name: 'local' })}*`), text);
    assert.match(text, pattern(zh, 'checks:postgres.line', {}, ['latency', 'version', 'connections', 'max', 'tx', 'database', 'size']));
    // Nothing from the English catalog.
    assert.ok(!text.includes(`*${en('health:title')}*`), text);
    for (const s of ['ok', 'warn', 'crit'] as const) assert.ok(!text.includes(en(`health:status.${s}`)), text);
    assert.doesNotMatch(text, ENGLISH_PROSE);
  });

  test('/health postgres gives its detail in Chinese', async () => {
    const text = messageText((await t.run('/health', 'postgres')).reply);
    assert.match(text, new RegExp(`^\\*${esc(zh('health:title_kind', { kind: 'postgres' }))}\\*`));
    assert.match(text, pattern(zh, 'checks:postgres.connections', {}, ['connections', 'max', 'percent']));
    assert.match(text, pattern(zh, 'checks:postgres.size', { database: 'mitong_devops_health_zh' }, ['size']));
    assert.doesNotMatch(text, ENGLISH_PROSE);
  });

  test('a usage error explains the kinds in Chinese, and keeps the syntax as it is typed', async () => {
    const { reply } = await t.run('/health', 'redsi', { user: 'U0ZH' });
    assert.equal(reply.method, 'response_url');
    const text = messageText(reply);
    assert.ok(text.includes(zh('health:usage.kind')), text);
    assert.match(text, /\/health postgres\|redis\|host\|containers\|errors/);
    assert.ok(!text.includes(en('health:usage.kind')), text);
    // Only the caller sees it, so the caller's own Slack locale decides, over the configured one.
    const english = messageText((await t.run('/health', 'redsi', { user: 'U0ONCALL' })).reply);
    assert.ok(english.includes(en('health:usage.kind')), english);
  });
});

describe('an English bot with a caller whose Slack locale is zh-CN', () => {
  let fake: FakeSlack;
  let t: TestBot;

  before(async () => {
    fake = await startFakeSlack({ token: TOKEN, users: { U0ZH: { locale: 'zh-CN' }, U0EN: { locale: 'en-US' } } });
    t = await startTestBot({ services: { backend: { host: 'local', logs: { app: '/var/log/app.log' } } } }, { fake });
  });
  after(async () => {
    await t?.close();
    await fake?.stop();
  });

  test('an unknown service is answered to the caller alone, in Chinese', async () => {
    const expected = zh('diagnose:services.unknown_guess', { name: 'bakend', choices: 'backend', guess: 'backend' });
    for (const command of ['/diagnose', '/logs']) {
      const { reply } = await t.run(command, 'bakend', { user: 'U0ZH' });
      assert.equal(reply.method, 'response_url');
      assert.equal(reply.args.response_type, 'ephemeral');
      const text = messageText(reply);
      assert.ok(text.includes(expected), `${command}:\n${text}`);
      assert.doesNotMatch(text, /Unknown service|Choose one of|Services are defined/);
    }
    // The same mistake by an English reader reads in English.
    const { reply } = await t.run('/diagnose', 'bakend', { user: 'U0EN' });
    assert.match(messageText(reply), /^[\s\S]*Unknown service "bakend"\. Choose one of: backend\. Did you mean backend\?/);
  });

  test("the same caller's /health in a channel without a locale is posted in English", async () => {
    const { reply } = await t.run('/health', 'host', { user: 'U0ZH' });
    assert.equal(reply.method, 'chat.postMessage');
    const text = messageText(reply);
    assert.match(text, new RegExp(`^\\*${esc(en('health:title_kind', { kind: 'host' }))}\\*`));
    assert.match(text, pattern(en, 'health:footer.fresh', { count: 999 }, ['took']));
    assert.match(text, /host local memory\*: [\d.]+% used/);
    assert.doesNotMatch(text, /[\u4e00-\u9fff]/, 'no Chinese in an English channel');
  });
});
