/** Approval rules that need time or several people: N distinct approvers, expiry, a missing Docker socket. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const roles = { operator: ['U0OPER'], approver: ['U0MGR1', 'U0MGR2'] };

async function request(t: TestBot, service: string): Promise<{ card: FakeSlackCall; id: string; ts: string }> {
  const before = t.fake.calls.length;
  await t.command('/restart', service, { user: 'U0OPER' });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage');
  return { card, id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
}

const latest = (t: TestBot, ts: string, re: RegExp, timeoutMs?: number) => waitForMessage(t.fake, ts, re, timeoutMs);

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.engine.stop();
});

describe('a rule with count 2', () => {
  let t: TestBot;
  before(async () => {
    t = await startTestBot({ ...stackConfig(stack), roles, permissions: { restart: ['operator'] }, approvals: { rules: { restart: { approvers: ['approver'], count: 2 } } } });
  });
  after(() => t?.close());

  test('needs two different approvers; one approver clicking twice counts once', async () => {
    const since = new Date().toISOString();
    const { id, ts } = await request(t, 'worker');
    assert.match(await latest(t, ts, /Approvers\*\n2 distinct/), /0 of 2/);
    const click = (user: string, responseId: string) => t.click({ user, channel: 'C0OPS', ts, actionId: 'approval.approve', value: id, responseId });
    await click('U0MGR1', 'a1');
    assert.match(String((await t.fake.waitFor((c) => c.target === 'a1')).args.text), /Approval recorded; 1 more needed/);
    await click('U0MGR1', 'a2');
    assert.match(String((await t.fake.waitFor((c) => c.target === 'a2')).args.text), /already approved this; 1 more needed/);
    await latest(t, ts, /⏳ Waiting for approval: 1 of 2/);
    await sleep(1500);
    assert.equal(await stack.engine.countEvents(stack.name('worker'), 'start', since), 0, 'one approver is not enough');
    await click('U0MGR2', 'a3');
    await latest(t, ts, /✅ Done: running in [\d.]+ s \(approved by <@U0MGR1>, <@U0MGR2>\)/);
    await sleep(1200);
    assert.equal(await stack.engine.countEvents(stack.name('worker'), 'start', since), 1);
  });

  test('an approver without the role is refused', async () => {
    const { id, ts } = await request(t, 'nginx');
    await t.click({ user: 'U0RANDOM', channel: 'C0OPS', ts, actionId: 'approval.approve', value: id, responseId: 'norole' });
    assert.match(String((await t.fake.waitFor((c) => c.target === 'norole')).args.text), /needs the role approver/);
    await latest(t, ts, /0 of 2/);
  });
});

describe('a request past its TTL', () => {
  let t: TestBot;
  before(async () => {
    t = await startTestBot({ ...stackConfig(stack), roles, permissions: { restart: ['operator'] }, approvals: { ttl: '1s', sweep_interval: '10m' } });
  });
  after(() => t?.close());

  test('Approve does nothing and the card shows Expired', async () => {
    const since = new Date().toISOString();
    const { id, ts } = await request(t, 'nginx');
    await sleep(1300);
    await t.click({ user: 'U0MGR1', channel: 'C0OPS', ts, actionId: 'approval.approve', value: id, responseId: 'exp' });
    assert.match(String((await t.fake.waitFor((c) => c.target === 'exp')).args.text), /has expired; nothing was done/);
    const text = await latest(t, ts, /⌛ Expired/);
    assert.doesNotMatch(text, /Done/);
    await t.click({ user: 'U0MGR2', channel: 'C0OPS', ts, actionId: 'approval.approve', value: id, responseId: 'exp2' });
    assert.match(String((await t.fake.waitFor((c) => c.target === 'exp2')).args.text), /already expired/);
    await sleep(1200);
    assert.equal(await stack.engine.countEvents(stack.name('nginx'), 'start', since), 0);
  });
});

describe('the periodic sweep', () => {
  let t: TestBot;
  before(async () => {
    t = await startTestBot({ ...stackConfig(stack), roles, permissions: { restart: ['operator'] }, approvals: { ttl: '1s', sweep_interval: '300ms' } });
  });
  after(() => t?.close());

  test('closes expired requests and updates their cards without anyone clicking', async () => {
    const { ts } = await request(t, 'nginx');
    await latest(t, ts, /⌛ Expired/, 5000);
  });
});

describe('without a Docker socket', () => {
  let t: TestBot;
  before(async () => {
    const cfg = stackConfig(stack);
    cfg.targets.docker.local.socket = '/nonexistent/docker.sock';
    t = await startTestBot({ ...cfg, roles, permissions: { restart: ['operator'] }, targets: { ...cfg.targets, local: true } });
  });
  after(() => t?.close());

  test('the user gets a clear error and the bot keeps running', async () => {
    const { reply } = await t.run('/restart', 'backend', { user: 'U0OPER' });
    assert.equal(reply.args.response_type, 'ephemeral');
    assert.match(messageText(reply), /cannot reach Docker at \/nonexistent\/docker\.sock: ENOENT/);
    const { reply: health } = await t.run('/health', 'host');
    assert.match(messageText(health), /host local disk/);
  });
});
