/**
 * A reply only the caller sees is in the caller's Slack language: signed slash commands from a
 * zh-CN user and an en-US user, against a fake Slack whose users.info reports each one's locale
 * (with include_locale), asked once per user and then cached. Expected texts come from the
 * catalogs through the translator.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { commands } from '../../commands/index.ts';
import { formatUsage } from '../../src/core/usage.ts';
import { translator } from '../../src/i18n/index.ts';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { messageText, startTestBot, TOKEN, type TestBot } from '../helpers/bot.ts';

const ZH = 'U0ZHCALLER';
const EN = 'U0ENCALLER';
const zh = translator('zh-CN', 'Asia/Shanghai');
const en = translator('en', 'Asia/Shanghai');
const health = commands.find((c) => c.name === 'health')!;

let fake: FakeSlack;
let t: TestBot;

before(async () => {
  fake = await startFakeSlack({ token: TOKEN, users: { [ZH]: { locale: 'zh-CN' }, [EN]: { locale: 'en-US' } } });
  t = await startTestBot({ locale: 'en', timezone: 'Asia/Shanghai', targets: { local: false } }, { fake });
});
after(async () => {
  await t?.close();
  await fake?.stop();
});

const lookups = (user: string) => fake.calls.filter((c) => c.method === 'users.info' && c.args.user === user);

test('a usage error is in Chinese for a zh-CN caller and in English for an en-US caller', async () => {
  for (const [user, tr, other] of [[ZH, zh, en], [EN, en, zh]] as const) {
    const { reply } = await t.run('/health', '--bogus', { user });
    assert.equal(reply.method, 'response_url');
    assert.equal(reply.args.response_type, 'ephemeral');
    const text = messageText(reply);
    const reason = tr('core:args.unknown_option', { flag: '--bogus' });
    assert.ok(text.includes(reason), `${user}: ${JSON.stringify(reason)} in:\n${text}`);
    assert.ok(!text.includes(other('core:args.unknown_option', { flag: '--bogus' })), `${user}: not the other language:\n${text}`);
    assert.ok(text.includes(`*${tr('core:usage.title')}*`), text);
    for (const line of formatUsage(health.usage, tr)) assert.ok(text.includes(line), `${JSON.stringify(line)} in:\n${text}`);
  }
  // zh-CN and en-US differ in their texts: the assertions above told the two apart.
  assert.notEqual(zh('core:args.unknown_option', { flag: '--bogus' }), en('core:args.unknown_option', { flag: '--bogus' }));
});

test("users.info is asked once per user, with include_locale, and the answer is cached", async () => {
  // Both users have run a command already (the test above); more commands ask Slack nothing new.
  await t.run('/health', '--bogus', { user: ZH });
  const { reply } = await t.run('/ops', 'help', { user: ZH });
  assert.ok(messageText(reply).includes(zh('ops:intro')), messageText(reply));
  await t.run('/health', '--bogus', { user: EN });
  for (const user of [ZH, EN]) {
    const calls = lookups(user);
    assert.equal(calls.length, 1, `${user}: ${calls.length} users.info calls`);
    assert.ok(['true', true, '1', 1].includes(calls[0].args.include_locale), JSON.stringify(calls[0].args));
  }
});

test('/audit shows its times in the configured zone, with the offset, in the caller\'s language', async () => {
  // Audit rows are written in batches (every 100 ms by default): asked again until they are in.
  let text = '';
  let stamps: RegExpMatchArray[] = [];
  for (let i = 0; i < 20 && stamps.length === 0; i++) {
    if (i) await new Promise((r) => setTimeout(r, 250));
    text = messageText((await t.run('/audit', `--user ${ZH}`, { user: ZH })).reply);
    // The rows of this user's earlier commands, each stamped in Asia/Shanghai (UTC+08:00, no DST).
    stamps = [...text.matchAll(/^(?:```)?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\+08:00 {2}U0ZHCALLER +\/(\w+)/gm)];
  }
  assert.ok(text.includes(zh('audit:title')) && text.includes(zh('audit:columns')), text);
  assert.ok(stamps.length >= 1, text);
  for (const [, stamp] of stamps) {
    // Shanghai wall time minus eight hours is UTC, and within the last minutes.
    const utc = Date.parse(`${stamp.replace(' ', 'T')}+08:00`);
    assert.ok(Math.abs(Date.now() - utc) < 10 * 60_000, `${stamp} is not now in Asia/Shanghai`);
  }
});
