/**
 * Config schedules in a real bot, through the fake Slack: /schedule list and run, the schedule's
 * actor checked like anyone, and a destructive schedule that only ever posts its approval card.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { sleep, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
let stack: Stack;
let t: TestBot;

before(async () => {
  stack = await startStack();
  t = await startTestBot({
    ...stackConfig(stack),
    timezone: 'Asia/Shanghai',
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER, 'schedule:containers', 'schedule:nightly-restart'], approver: ['U0MGR'] },
    permissions: { health: ['operator'], restart: ['operator'], schedule: ['operator'] },
    schedules: {
      // New Year's midnight: never due during the test, run only by hand.
      containers: { cron: '0 0 1 1 *', command: '/health containers', channel: 'C0OPS' },
      stranger: { cron: '0 0 1 1 *', command: '/health containers', channel: 'C0OPS' },
      'nightly-restart': { cron: '0 3 * * *', command: '/restart backend', channel: 'C0OPS' },
      parked: { cron: '30 8 * * 1-5', command: '/health', channel: 'C0OPS', enabled: false },
    },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

/** The next post in `channel` after call index `from`. */
const postIn = (channel: string, from: number, timeoutMs = 20_000) =>
  t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= from && c.method === 'chat.postMessage' && c.args.channel === channel, timeoutMs);

async function auditRows(actor: string) {
  await t.bot.idle();
  return t.bot.store.query<{ command: string; args: string; outcome: string; channel: string }>(
    'select command, args, outcome, channel from audit_events where actor = $1 order by id', [actor],
  );
}

describe('/schedule', () => {
  test('list: each schedule with its command, next fire in local time with offset, and last run', async () => {
    const { reply } = await t.run('/schedule', 'list', { user: OPER });
    assert.equal(reply.args.response_type, 'ephemeral');
    const text = messageText(reply);
    // The four from config, and the bot's own: checklist reminders, incident reminders and archiving.
    assert.match(text, /6 schedules; times in Asia\/Shanghai/);
    assert.match(text, /checklist-reminders\*?\nRuns \/checklist reminders\n/);
    assert.match(text, /incidents\*?\nRuns \/incident reminders, archiving\nNext: \d{4}-\d\d-\d\d \d\d:\d\d:00 UTC\+08:00/);
    assert.match(text, /containers\*?\n.*Runs \/health containers in <#C0OPS>/);
    assert.match(text, /Next: \d{4}-01-01 00:00:00 UTC\+08:00/);
    assert.match(text, /Next: \d{4}-\d\d-\d\d 03:00:00 UTC\+08:00/);
    assert.match(text, /parked · disabled/);
    assert.match(text, /Next: none/);
    assert.match(text, /Last: never run/);
  });

  test('run: runs it now as the schedule, posts in its channel, and both steps are audited', async () => {
    const from = t.fake.calls.length;
    const { reply } = await t.run('/schedule', 'run containers', { user: OPER });
    assert.match(messageText(reply), /Running containers now; its report will be posted in <#C0OPS>/);
    const post = await postIn('C0OPS', from);
    const text = messageText(post);
    assert.match(text, /backend/);
    assert.match(text, /Scheduled: containers, run by hand by <@U0OPER>/);
    const mine = await auditRows(OPER);
    assert.ok(mine.some((r) => r.command === 'schedule' && r.args === 'run containers'), JSON.stringify(mine));
    const its = await until('the run is audited', 5000, () => auditRows('schedule:containers'), (r) => r.length > 0);
    assert.deepEqual(its.map((r) => [r.command, r.args, r.channel]), [['health', 'containers', 'C0OPS']]);
    assert.match(its[0].outcome, /^(ok|warn|crit)$/);

    const list = await until('the outcome is kept', 5000, async () => messageText((await t.run('/schedule', '', { user: OPER })).reply), (s) => /containers[\s\S]*Last: .*UTC\+08:00, (ok|warning|problems found) \(run by hand\)/.test(s));
    assert.match(list, /Last: never run/, 'the others have still never run');
  });

  test('a schedule whose actor lacks the role is refused in its channel, and the refusal is audited', async () => {
    const from = t.fake.calls.length;
    await t.run('/schedule', 'run stranger', { user: OPER });
    const post = await postIn('C0OPS', from);
    assert.match(messageText(post), /\/health needs the role operator/);
    assert.match(messageText(post), /Scheduled: stranger/);
    const rows = await until('the refusal is audited', 5000, () => auditRows('schedule:stranger'), (r) => r.length > 0);
    assert.deepEqual(rows.map((r) => [r.command, r.outcome]), [['health', 'denied']]);
    await until('the outcome is kept', 5000, async () => messageText((await t.run('/schedule', 'list', { user: OPER })).reply), (s) => /stranger[\s\S]*refused \(permission\)/.test(s));
  });

  test('running a schedule by hand needs permissions.schedule; an unknown name gets a suggestion', async () => {
    const from = t.fake.calls.length;
    const refused = messageText((await t.run('/schedule', 'run containers', { user: 'U0NOBODY' })).reply);
    assert.match(refused, /\/schedule needs the role operator/);
    const unknown = messageText((await t.run('/schedule', 'run container', { user: OPER })).reply);
    assert.match(unknown, /There is no schedule named "container"\. Did you mean \/schedule run containers\?/);
    await sleep(500);
    assert.ok(!t.fake.calls.slice(from).some((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0OPS'), 'nothing ran');
  });

  test('a destructive schedule posts its approval card and runs nothing unapproved', async () => {
    const startedBefore = await stack.engine.startedAt(stack.name('backend'));
    const from = t.fake.calls.length;
    await t.run('/schedule', 'run nightly-restart', { user: OPER });
    const card: FakeSlackCall = await postIn('C0APPROVALS', from);
    assert.ok(findButton(card, 'approval.approve'), 'the card has its buttons');
    assert.match(messageText(card), /schedule:nightly-restart/);
    // The channel hears that approval was asked for (nobody else would see that reply).
    const note = await postIn('C0OPS', from);
    assert.match(messageText(note), /Approval requested/);
    await sleep(2000);
    assert.equal(await stack.engine.startedAt(stack.name('backend')), startedBefore, 'the container was not restarted');
    const reqs = await t.bot.store.query<{ state: string; requester: string }>('select state, requester from approval_requests');
    assert.deepEqual(reqs.map((r) => [r.requester, r.state]), [['schedule:nightly-restart', 'pending']]);
  });
});
