/** /restart through the approval flow, against a real dockerd. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
let t: TestBot;

before(async () => {
  stack = await startStack();
  t = await startTestBot({
    ...stackConfig(stack),
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], approver: [MGR, 'U0MGR2'] },
    permissions: { restart: ['operator'] },
    approvals: { rules: { restart: { approvers: ['approver'], count: 1 } }, break_glass: { enabled: true, roles: ['operator'] } },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

/** Requests a restart and returns the approval card as first posted. */
async function requestRestart(service: string): Promise<{ card: FakeSlackCall; id: string; reply: FakeSlackCall }> {
  const before = t.fake.calls.length;
  const { ack, reply } = await t.run('/restart', service, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
  const id = findButton(card, 'approval.approve')!.value;
  return { card, id, reply };
}

const cardText = (card: FakeSlackCall, re: RegExp) => waitForMessage(t.fake, card.result!.ts as string, re);

describe('/restart with approval', () => {
  test('card shows the exact plan; the requester cannot approve; an approver can, and it restarts', async () => {
    const startedBefore = await stack.engine.startedAt(stack.name('backend'));
    const { card, id, reply } = await requestRestart('backend');
    assert.equal(reply.args.response_type, 'ephemeral');
    assert.match(messageText(reply), new RegExp(`Approval requested \\(${id}\\)`));
    const text = messageText(card);
    assert.match(text, new RegExp(`restart container ${stack.name('backend')} \\(image opsbot-busybox:test, up [^,]+, 0 restarts\\) on docker:local`));
    assert.match(text, /Requested by\*\n<@U0OPER>/);
    assert.match(text, /Risk\*\nmedium/);
    assert.match(text, /1 distinct, role approver/);
    assert.match(text, /Expires\*\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d/);
    for (const a of ['approval.approve', 'approval.deny', 'approval.cancel']) assert.ok(findButton(card, a), a);
    const approve = (card.args.blocks as any[]).find((b) => b.type === 'actions').elements[0];
    assert.ok(approve.confirm, 'Approve has a confirm dialog');

    // The requester's own click is refused, privately, and nothing restarts.
    const ts = card.result!.ts as string;
    assert.equal((await t.click({ user: OPER, channel: 'C0APPROVALS', ts, actionId: 'approval.approve', value: id, responseId: 'self' })).status, 200);
    const refusal = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'self');
    assert.equal(refusal.args.response_type, 'ephemeral');
    assert.match(String(refusal.args.text), /cannot approve your own request/);
    await sleep(300);
    assert.equal(await stack.engine.startedAt(stack.name('backend')), startedBefore);

    await t.click({ user: MGR, channel: 'C0APPROVALS', ts, actionId: 'approval.approve', value: id });
    const done = await cardText(card, /✅ Done: healthy in [\d.]+ s/);
    assert.match(done, /approved by <@U0MGR>/);
    assert.match(done, /started at: \S+ → \S+/);
    assert.match(done, /health: \w+ → healthy/);
    assert.notEqual(await stack.engine.startedAt(stack.name('backend')), startedBefore);
    const final = t.fake.messages('C0APPROVALS').find((m) => m.ts === ts) as { blocks: Array<{ type: string }> };
    assert.equal(final.blocks.some((b) => b.type === 'actions'), false, 'buttons are gone');
  });

  test('--dry-run shows the plan and changes nothing', async () => {
    const before = t.fake.calls.length;
    const startedBefore = await stack.engine.startedAt(stack.name('nginx'));
    const { reply } = await t.run('/restart', 'nginx --dry-run', { user: OPER });
    assert.equal(reply.args.response_type, 'ephemeral');
    const text = messageText(reply);
    assert.match(text, /Dry run: this is the plan\. Nothing was changed\./);
    assert.match(text, new RegExp(`restart container ${stack.name('nginx')}`));
    assert.match(text, /docker restart -t 1/);
    await sleep(300);
    assert.equal(t.fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage').length, 0, 'no card');
    assert.equal(await stack.engine.startedAt(stack.name('nginx')), startedBefore);
  });

  test('an unknown service gets usage listing the services, with a did-you-mean', async () => {
    const { reply } = await t.run('/restart', 'backnd', { user: OPER });
    const text = messageText(reply);
    assert.match(text, /Unknown service "backnd"\. Choose one of: backend, worker, nginx\./);
    assert.match(text, /Did you mean backend\?/);
    assert.match(text, /\/restart <service> \[--dry-run\]/);
  });

  test('Deny asks for a reason in a modal; the card shows who denied and why', async () => {
    const { card, id } = await requestRestart('nginx');
    const ts = card.result!.ts as string;
    const before = t.fake.calls.length;
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts, actionId: 'approval.deny', value: id });
    const open = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'views.open');
    assert.ok(open.args.trigger_id);
    const view = open.args.view as Record<string, any>;
    assert.equal((await t.submitView(view, MGR, { reason: '' })).status, 200); // too short: modal shows an error
    assert.equal((await t.submitView(view, MGR, { reason: 'not during business hours' })).status, 200);
    await cardText(card, /⛔ Denied by <@U0MGR>: not during business hours/);
    const denied = t.fake.messages('C0APPROVALS').find((m) => m.ts === ts) as { blocks: Array<{ type: string }> };
    assert.equal(denied.blocks.some((b) => b.type === 'actions'), false, 'no buttons left');
    // A late Approve on a denied request does nothing.
    await t.click({ user: 'U0MGR2', channel: 'C0APPROVALS', ts, actionId: 'approval.approve', value: id, responseId: 'late' });
    const late = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'late');
    assert.match(String(late.args.text), /already denied/);
  });

  test('the requester can cancel; others cannot', async () => {
    const { card, id } = await requestRestart('nginx');
    const ts = card.result!.ts as string;
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts, actionId: 'approval.cancel', value: id, responseId: 'c1' });
    assert.match(String((await t.fake.waitFor((c) => c.target === 'c1')).args.text), /Only the requester/);
    await t.click({ user: OPER, channel: 'C0APPROVALS', ts, actionId: 'approval.cancel', value: id });
    await cardText(card, /🚫 Cancelled by the requester/);
  });

  test('/approvals lists what the caller can act on; /audit shows the trail', async () => {
    const { id } = await requestRestart('nginx');
    const mine = messageText((await t.run('/approvals', '', { user: MGR })).reply);
    assert.match(mine, new RegExp(`${id}: /restart nginx`));
    const stranger = messageText((await t.run('/approvals', '', { user: 'U0NOBODY' })).reply);
    assert.match(stranger, /Nothing is waiting for you/);
    const audit = messageText((await t.run('/audit', '--limit 50', { user: MGR })).reply);
    assert.match(audit, new RegExp(`U0OPER\\s+/restart ${id}\\s+→ approval\\.requested`));
    assert.match(audit, /U0MGR\s+\/restart r-\w+\s+→ approval\.approved/);
    assert.match(audit, /→ approval\.succeeded/);
    const onlyMgr = messageText((await t.run('/audit', `--user <@${MGR}|mgr>`, { user: MGR })).reply);
    assert.doesNotMatch(onlyMgr, /U0OPER /);
  });

  test('the plan is re-checked: a recreated container is not restarted and the card says why', async () => {
    const { card, id } = await requestRestart('nginx');
    await stack.engine.docker('rm', '-f', stack.name('nginx'));
    await stack.engine.runComposeService({ project: stack.project, service: 'nginx' });
    const startedBefore = await stack.engine.startedAt(stack.name('nginx'));
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result!.ts as string, actionId: 'approval.approve', value: id });
    await cardText(card, /❌ Failed: precondition failed: container \S+ was recreated \(id \w+ → \w+\); nothing ran\./);
    await sleep(500);
    assert.equal(await stack.engine.startedAt(stack.name('nginx')), startedBefore);
  });

  test('break-glass runs at once, needs a reason, and is flagged for review', async () => {
    const noReason = messageText((await t.run('/restart', 'worker --break-glass ""', { user: OPER })).reply);
    assert.match(noReason, /needs a reason/);
    const before = t.fake.calls.length;
    const { reply } = await t.run('/restart', 'worker --break-glass "site down, managers asleep"', { user: OPER });
    assert.match(messageText(reply), /Break-glass: running now without approval/);
    const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
    assert.match(messageText(card), /🚨 BREAK-GLASS \/restart worker/);
    const text = await cardText(card, /✅ Done/);
    assert.match(text, /break-glass: site down, managers asleep/);
    const rows = await t.bot.store.query<{ outcome: string }>("select outcome from audit_events where outcome like 'approval.%break_glass' order by id");
    assert.deepEqual(rows.map((r) => r.outcome), ['approval.break_glass', 'approval.approved_break_glass']);
  });
});
