/**
 * An approval card in a channel configured for zh-CN, against a real dockerd: the card, its
 * buttons, the stored plan and the result are in Chinese, while each click and the request reply
 * follow the reader's own Slack locale. Expected texts come from the catalogs, not pinned strings.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Plan } from '../../src/approvals/plan.ts';
import { translator } from '../../src/i18n/index.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, TOKEN, waitForMessage, type TestBot } from '../helpers/bot.ts';

const OPER = 'U0OPER'; // Slack locale en-US (the fake's default)
const MGR = 'U0MGR'; // Slack locale zh-CN
const OPS = 'C0OPS';
const ZONE = 'Asia/Shanghai';
const zh = translator('zh-CN', ZONE);
const en = translator('en', ZONE);

let stack: Stack;
let fake: FakeSlack;
let t: TestBot;

before(async () => {
  stack = await startStack();
  fake = await startFakeSlack({ token: TOKEN, users: { [MGR]: { locale: 'zh-CN' } } });
  t = await startTestBot({
    ...stackConfig(stack),
    timezone: ZONE,
    channels: { ops: { id: OPS, locale: 'zh-CN' } },
    roles: { operator: [OPER], approver: [MGR] },
    permissions: { restart: ['operator'] },
    approvals: { rules: { restart: { approvers: ['approver'], count: 1 } } },
  }, { fake });
});
after(async () => {
  await t?.close();
  await fake?.stop();
  await stack?.engine.stop();
});

/** "前缀 § 后缀" with § standing for a varying value → a RegExp for the whole text. */
const pattern = (text: string) => new RegExp(text.split('§').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+?'));

function buttons(call: { args: Record<string, unknown> }): Array<{ action_id: string; text: { text: string }; confirm?: { title: { text: string }; confirm: { text: string }; deny: { text: string } } }> {
  return ((call.args.blocks ?? []) as Array<{ type: string; elements?: never[] }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

test('a /restart card in a zh-CN channel is Chinese, its requester reads English, and the result is Chinese', { timeout: 60_000 }, async () => {
  const startedBefore = await stack.engine.startedAt(stack.name('backend'));
  const mark = fake.calls.length;
  assert.equal((await t.command('/restart', 'backend', { user: OPER, channel: OPS })).status, 200);
  const card = await fake.waitFor((c) => fake.calls.indexOf(c) >= mark && c.method === 'chat.postMessage' && c.args.channel === OPS);
  const reply = await fake.waitFor((c) => fake.calls.indexOf(c) >= mark && c.method === 'response_url');
  const id = findButton(card, 'approval.approve')!.value;
  const [req] = await t.bot.store.query<{ plan: Plan; args_text: string; expires_at: Date }>('select plan, args_text, expires_at from approval_requests where id = $1', [id]);

  // The requester's own reply (en-US): English, with the expiry in the configured zone.
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.ok(messageText(reply).includes(en('approvals:requested.below', { id, at: req.expires_at })), messageText(reply));
  assert.match(messageText(reply), /UTC\+08:00/);

  // The plan is stored as messages, so each reader renders it in their language.
  assert.equal(typeof req.plan.summary, 'object', 'the plan summary is a message, not English text');
  const text = messageText(card);
  const planLines = [zh.text(req.plan.summary), ...req.plan.steps.map((s, i) => `${i + 1}. ${zh.text(s)}`)];
  for (const line of planLines) assert.ok(text.includes(line), `card lacks plan line ${line}:\n${text}`);
  assert.ok(planLines[0].includes(stack.name('backend')));
  assert.doesNotMatch(text, /restart container|Waiting for approval|Requested by|Expires/);
  assert.ok(text.includes(zh('approvals:card.pending', { done: 0, needed: 1 })), text);
  assert.ok(text.includes(`*${zh('approvals:card.requested_by')}*\n<@${OPER}>`), text);
  const risk = zh('approvals:card.risk_with_note', { risk: zh('approvals:risk.medium'), note: zh('restart:plan.risk_note', { service: 'backend' }) });
  assert.ok(text.includes(`*${zh('approvals:card.risk')}*\n${risk}`), text);
  assert.ok(text.includes(zh('approvals:card.approvers_rule', { n: 1, roles: ['approver'] })), text);
  assert.ok(text.includes(`*${zh('approvals:card.expires')}*\n${zh.time(req.expires_at)}`), text);
  assert.ok(text.includes(zh('approvals:card.plan')), text);

  // Buttons and the confirm dialog, from the zh-CN catalog.
  const [approve, deny, cancel] = buttons(card);
  assert.deepEqual([approve.action_id, deny.action_id, cancel.action_id], ['approval.approve', 'approval.deny', 'approval.cancel']);
  assert.deepEqual([approve.text.text, deny.text.text, cancel.text.text], [zh('approvals:button.approve'), zh('approvals:button.deny'), zh('approvals:button.cancel')]);
  assert.equal(approve.confirm?.title.text, zh('approvals:confirm.approve_title'));
  assert.equal(approve.confirm?.deny.text, zh('approvals:button.back'));
  assert.equal(deny.confirm?.title.text, zh('approvals:confirm.deny_title'));

  // The requester's own click: refused in their language (English), on a Chinese card.
  const ts = card.result!.ts as string;
  await t.click({ user: OPER, channel: OPS, ts, actionId: 'approval.approve', value: id, responseId: 'own' });
  const own = await fake.waitFor((c) => c.method === 'response_url' && c.target === 'own');
  assert.equal(String(own.args.text), en('approvals:reply.own', { roles: ['approver'] }));

  // The approver reads Chinese; the card's progress and result are the channel's (Chinese).
  await t.click({ user: MGR, channel: OPS, ts, actionId: 'approval.approve', value: id, responseId: 'mgr' });
  const approved = await fake.waitFor((c) => c.method === 'response_url' && c.target === 'mgr');
  assert.equal(String(approved.args.text), zh('approvals:reply.approved', { line: `/restart ${req.args_text}`.trim() }));
  const done = await waitForMessage(fake, ts, pattern(zh('approvals:card.succeeded_result', { result: '§', by: '§' })), 30_000);
  const [row] = await t.bot.store.query<{ state: string; result: { summary: string; lines: string[] } }>('select state, result from approval_requests where id = $1', [id]);
  assert.equal(row.state, 'succeeded');
  assert.match(row.result.summary, pattern(zh('restart:result.healthy', { seconds: '§' })));
  assert.ok(done.includes(zh('approvals:card.succeeded_result', { result: row.result.summary, by: `<@${MGR}>` })), done);
  assert.ok(done.includes(zh('approvals:card.result')), done);
  assert.match(done, pattern(zh('restart:result.started_at', { before: '§', after: '§' })));
  assert.match(done, pattern(zh('restart:result.health', { before: '§', after: 'healthy' })));
  assert.doesNotMatch(done, /Done|approved by|started at:/);
  assert.ok(!buttons({ args: fake.messages(OPS).find((m) => m.ts === ts) as Record<string, unknown> }).length, 'buttons are gone');
  assert.notEqual(await stack.engine.startedAt(stack.name('backend')), startedBefore);
});

test('the requester\'s --dry-run renders the same stored kind of plan in English', async () => {
  const { reply } = await t.run('/restart', 'nginx --dry-run', { user: OPER, channel: OPS });
  const text = messageText(reply as FakeSlackCall);
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(text, new RegExp(`restart container ${stack.name('nginx')} \\(image [^,]+, up [^,]+, \\d+ restarts?\\) on docker:local`));
  assert.ok(text.includes(en('restart:plan.risk_note', { service: 'nginx' })), text);
});
