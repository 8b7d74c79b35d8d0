/**
 * The manual's checklists (appendix A): automated items, a person's check, items not automated,
 * the end-of-day reminder, and both languages; with the state in real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const OPER = 'U0OPER';
let t: TestBot;
let zh: TestBot;
let remindAt: number;

before(async () => {
  // The end of the day comes a few seconds from now (UTC, the config's zone); not for the zh bot.
  remindAt = Date.now() + scaled(15_000);
  const hms = new Date(remindAt).toISOString().slice(11, 19);
  const config = { targets: { local: true }, roles: { operator: [OPER] }, checklists: { remind_at: hms, check_every: '1s' } };
  t = await startTestBot(config);
  zh = await startTestBot({ ...config, locale: 'zh-CN', checklists: { remind_at: '23:59:59' } });
});
after(async () => {
  await t?.close();
  await zh?.close();
});

const lineOf = (text: string, re: RegExp) => text.split('\n').find((l) => re.test(l)) ?? '';

describe('/checklist', () => {
  test('daily: automated items show what they found; an item without its feature is "not automated", never passed', async () => {
    const { reply } = await t.run('/checklist', 'daily', { user: OPER, channel: 'C0CHK' });
    const text = messageText(reply);
    assert.match(text, /Daily checklist/);
    for (const item of ['System services', 'Disk space', 'Error logs']) assert.match(lineOf(text, new RegExp(item)), /^(✅|⚠️|❌) /, text);
    assert.match(lineOf(text, /Disk space/), /\/health host · /);
    const alerts = lineOf(text, /Alert records/);
    assert.match(alerts, /➖ Alert records: not automated/);
    assert.doesNotMatch(alerts, /✅/);
    // Each automated item ran through the dispatcher as the caller, and was audited.
    // (Read-only commands' audit rows are written in batches: wait for them.)
    const audited = async () => (await query<{ args: string }>(t.stateDbUrl, `select args from audit_events where actor = $1 and command = 'health'`, [OPER])).map((r) => r.args).sort();
    const deadline = Date.now() + scaled(5000);
    while ((await audited()).length < 3 && Date.now() < deadline) await sleep(100);
    assert.deepEqual(await audited(), ['containers', 'errors', 'host']);
  });

  test('monthly: a person checks an item; who and when are recorded and shown in place; open items are reminded once', async () => {
    const before = t.fake.calls.length;
    const { reply } = await t.run('/checklist', 'monthly', { user: OPER, channel: 'C0CHK' });
    const text = messageText(reply);
    assert.match(text, /☐ System updates — needs a person/);
    assert.match(text, /☐ Security audit — needs a person/);
    assert.match(lineOf(text, /Backup verification/), /not automated/);
    const button = findButton(reply, 'checklist.check')!;
    assert.match(button.value, /^\d+:updates$/);
    await t.click({ user: OPER, channel: 'C0CHK', ts: reply.result.ts, actionId: 'checklist.check', value: button.value });
    const updated = await waitForMessage(t.fake, reply.result.ts, /☑ System updates — checked by <@U0OPER>, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    assert.match(updated, /☐ Security audit/);
    const [mark] = await query<{ item: string; done_by: string }>(t.stateDbUrl, 'select item, done_by from checklist_marks where run_id = $1', [button.value.split(':')[0]]);
    assert.deepEqual(mark, { item: 'updates', done_by: OPER });

    // The reminder names what is still open (the security audit), once.
    const reminders = () => t.fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0CHK' && /still open/.test(messageText(c)));
    assert.equal(reminders().length, 0, 'no reminder before the end of the day');
    const deadline = remindAt + scaled(15_000);
    while (!reminders().length && Date.now() < deadline) await sleep(200);
    assert.equal(reminders().length, 1, 'reminded');
    assert.match(messageText(reminders()[0]), /Not checked yet today: Security audit/);
    await sleep(2500);
    assert.equal(reminders().length, 1, 'reminded once');
  });

  test('zh-CN: the items use the manual\'s own words', async () => {
    const { reply } = await zh.run('/checklist', 'weekly', { user: OPER, channel: 'C0CHK' });
    const text = messageText(reply);
    assert.match(text, /每周检查/);
    for (const item of ['数据库维护', '缓存清理', '性能监控', '安全检查']) assert.match(text, new RegExp(item));
    const { reply: monthly } = await zh.run('/checklist', 'monthly', { user: OPER, channel: 'C0CHK' });
    assert.match(messageText(monthly), /☐ 系统更新 — 需要人工确认/);
    assert.match(messageText(monthly), /容量规划/);
  });
});
