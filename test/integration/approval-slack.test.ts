/**
 * Approvals through signed Slack requests against a real dockerd: two approvers on a count-2
 * rule, a rate-limited Slack, refusals at the click, and arguments shown as they were parsed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { sleep, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const [M1, M2] = ['U0MGR1', 'U0MGR2'];
const CARDS = 'C0APPROVALS';

let stack: Stack;
let t: TestBot;

before(async () => {
  stack = await startStack();
  t = await startTestBot({
    ...stackConfig(stack),
    channels: { approvals: CARDS },
    roles: { operator: [OPER], approver: [M1, M2] },
    permissions: { restart: ['operator'] },
    // A short lease with a fast sweep: a restart below may outlive a lease, so it also shows
    // that a live runner keeps renewing it (2 s, so that a busy machine's pauses do not end it).
    approvals: { rules: { restart: { approvers: ['approver'], count: 2 } }, lease: '2s', sweep_interval: '200ms', break_glass: { enabled: true, roles: ['operator'] } },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

async function requestRestart(text: string): Promise<{ card: FakeSlackCall; id: string; ts: string }> {
  const before = t.fake.calls.length;
  const { ack } = await t.run('/restart', text, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === CARDS);
  return { card, id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
}

const state = async (id: string) => (await t.bot.store.query<{ state: string }>('select state from approval_requests where id = $1', [id]))[0]?.state;

describe('count 2: two approvers clicking at once', () => {
  test('six requests in two rounds on three containers: each runs exactly once, none stays pending', { timeout: 180_000 }, async () => {
    const since = new Date().toISOString();
    const services = ['backend', 'worker', 'nginx'];
    const requests = [];
    // Two rounds, so that no container is asked to restart twice at the same moment.
    for (let round = 0; round < 2; round++) {
      const batch = [];
      for (const svc of services) batch.push(await requestRestart(svc));
      // Both approvers click every card at the same moment, each of them three times.
      const clicks = batch.flatMap(({ id, ts }) =>
        [M1, M2, M1, M2, M1, M2].map((user) => t.click({ user, channel: CARDS, ts, actionId: 'approval.approve', value: id })));
      assert.ok((await Promise.all(clicks)).every((r) => r.status === 200));
      for (const { id, ts } of batch) {
        const text = await waitForMessage(t.fake, ts, /✅ Done|❌ Failed|⚠️ Interrupted/, 60_000);
        assert.match(text, /✅ Done: (healthy|running) in/, `${id}: ${text}`);
        assert.match(text, /approved by <@U0MGR\d>, <@U0MGR\d>/);
        assert.equal(await state(id), 'succeeded');
      }
      requests.push(...batch);
    }
    await sleep(1500); // docker events arrive a little late
    for (const svc of services) assert.equal(await stack.engine.countEvents(stack.name(svc), 'start', since), 2, `${svc} started once per request`);
    const ids = requests.map((r) => r.id);
    const rows = await t.bot.store.query<{ outcome: string; n: number }>(
      `select outcome, count(*)::int n from audit_events where args = any($1) and outcome in ('approval.approved', 'approval.started', 'approval.interrupted') group by outcome order by outcome`, [ids]);
    assert.deepEqual(rows, [{ outcome: 'approval.approved', n: 6 }, { outcome: 'approval.started', n: 6 }]);
  });
});

test('a rate-limited Slack does not hold up the restart: card updates wait, the action does not', { timeout: 90_000 }, async () => {
  const { id, ts } = await requestRestart('worker');
  await t.click({ user: M1, channel: CARDS, ts, actionId: 'approval.approve', value: id });
  await until('first vote recorded', 10_000, () => t.bot.store.query<{ n: number }>('select count(*)::int n from approval_votes where request_id = $1', [id]), (r) => r[0].n === 1);
  const startedBefore = await stack.engine.startedAt(stack.name('worker'));
  // From now on Slack answers chat.update with 429 and Retry-After: 10 s, twice.
  t.fake.rateLimit('chat.update', 10, 2);
  const clicked = Date.now();
  await t.click({ user: M2, channel: CARDS, ts, actionId: 'approval.approve', value: id });
  await until('restart finished', 15_000, () => state(id), (s) => s === 'succeeded' || s === 'failed');
  const tookMs = Date.now() - clicked;
  assert.equal(await state(id), 'succeeded');
  assert.notEqual(await stack.engine.startedAt(stack.name('worker')), startedBefore, 'the container was restarted');
  assert.ok(tookMs < 10_000, `the restart waited for Slack: ${tookMs} ms`);
  const limited = t.fake.calls.filter((c) => c.method === 'chat.update' && c.status === 429).length;
  assert.ok(limited >= 1, 'Slack was rate limiting card updates meanwhile');
  // The card still ends up right once Slack lets updates through.
  await waitForMessage(t.fake, ts, /✅ Done/, 60_000);
});

test('Deny from someone who may not deny is refused at the click, before any reason is asked', async () => {
  const { id, ts } = await requestRestart('nginx');
  const before = t.fake.calls.length;
  await t.click({ user: 'U0STRANGER', channel: CARDS, ts, actionId: 'approval.deny', value: id, responseId: 'deny-stranger' });
  const refusal = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'deny-stranger');
  assert.equal(refusal.args.response_type, 'ephemeral');
  assert.match(String(refusal.args.text), /Denying \/restart needs the role approver/);
  await sleep(300);
  assert.equal(t.fake.calls.slice(before).filter((c) => c.method === 'views.open').length, 0, 'no modal was opened');
  assert.equal(await state(id), 'pending');
  await t.click({ user: OPER, channel: CARDS, ts, actionId: 'approval.cancel', value: id });
});

test('break-glass with curly quotes: the card and the audit show the reason and the arguments as parsed', { timeout: 60_000 }, async () => {
  const before = t.fake.calls.length;
  const { reply } = await t.run('/restart', 'worker --break-glass \u201Csite down, managers asleep\u201D', { user: OPER });
  assert.match(messageText(reply), /Break-glass: running now without approval/);
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === CARDS);
  const text = messageText(card);
  assert.match(text, /🚨 BREAK-GLASS \/restart worker \(r-\d+\)/);
  assert.match(text, /break-glass: site down, managers asleep\)?$/m);
  assert.doesNotMatch(text, /[\u201C\u201D]/, 'no stray quote on the card');
  const id = /\((r-\d+)\)/.exec(text)![1];
  const [row] = await t.bot.store.query<{ args_text: string; break_glass: string }>('select args_text, break_glass from approval_requests where id = $1', [id]);
  assert.deepEqual(row, { args_text: 'worker', break_glass: 'site down, managers asleep' });
  const audit = await t.bot.store.query<{ detail: { reason?: string } }>(`select detail from audit_events where args = $1 and outcome = 'approval.break_glass'`, [id]);
  assert.equal(audit[0].detail.reason, 'site down, managers asleep');
  await waitForMessage(t.fake, card.result!.ts as string, /✅ Done/, 30_000);
});

test('--dry-run=false is a usage error and posts no approval card', async () => {
  const before = t.fake.calls.length;
  const { reply } = await t.run('/restart', 'nginx --dry-run=false', { user: OPER });
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(messageText(reply), /--dry-run is a switch and takes no value/);
  assert.match(messageText(reply), /\/restart <service> \[--dry-run\]/);
  await sleep(300);
  assert.equal(t.fake.calls.slice(before).filter((c) => c.method === 'chat.postMessage' && c.args.channel === CARDS).length, 0);
  assert.equal((await t.bot.store.query<{ n: number }>(`select count(*)::int n from approval_requests where args_text like 'nginx%' and state = 'pending'`))[0].n, 0);
});

test('a button whose handling fails answers "Internal error (ref …)", never the raw error', async () => {
  const { id, ts } = await requestRestart('nginx');
  // The state store loses a table mid-flight: every read of the request now fails.
  await t.bot.store.query('alter table approval_votes rename to approval_votes_gone');
  try {
    await t.click({ user: M1, channel: CARDS, ts, actionId: 'approval.approve', value: id, responseId: 'broken' });
    const answer = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'broken');
    assert.equal(answer.args.response_type, 'ephemeral');
    const text = String(answer.args.text);
    assert.match(text, /^Internal error \(ref [0-9a-f]{8}\)\. Nothing was recorded; the details are in the bot's log\.$/);
    assert.doesNotMatch(text, /approval_votes|relation|does not exist/);
  } finally {
    await t.bot.store.query('alter table approval_votes_gone rename to approval_votes');
  }
  await t.click({ user: OPER, channel: CARDS, ts, actionId: 'approval.cancel', value: id });
});
