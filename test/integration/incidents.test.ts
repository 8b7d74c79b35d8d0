/**
 * /incident against the fake Slack at wire level, with the state in real PostgreSQL and the
 * change freeze exercised with /restart on a real dockerd.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const OPER2 = 'U0OPERTWO';
const MGR = 'U0MGR';
const ZONE_MS = 8 * 3_600_000; // Asia/Shanghai, no daylight saving

/** Polls until `probe` gives something (state written after the reply, uploads, …). */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = scaled(15_000)): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`nothing after ${ms} ms`);
    await sleep(150);
  }
}

let stack: Stack;
let t: TestBot;

/** yyyymmdd in UTC+08:00, worked out here rather than with the code under test. */
const shanghaiDate = (at = Date.now()) => new Date(at + ZONE_MS).toISOString().slice(0, 10).replace(/-/g, '');
/** A time as the bot shows it in Asia/Shanghai. */
const shanghaiTime = (at: number) => `${new Date(at + ZONE_MS).toISOString().slice(0, 19).replace('T', ' ')} UTC+08:00`;

before(async () => {
  stack = await startStack();
  t = await startTestBot({
    ...stackConfig(stack),
    timezone: 'Asia/Shanghai',
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER, OPER2], approver: [MGR] },
    permissions: { restart: ['operator'] },
    approvals: { rules: { restart: { approvers: ['approver'], count: 1 } } },
    incidents: { announce: 'C0INCIDENTS', responders: ['operator'] },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

const callsSince = (n: number, method: string) => t.fake.calls.slice(n).filter((c) => c.method === method && c.result.ok !== false);

/** Declares an incident and returns its channel, with the Slack calls it made. */
async function declare(text: string, user = OPER) {
  const n = t.fake.calls.length;
  const dateBefore = shanghaiDate();
  const { reply } = await t.run('/incident', `declare ${text}`, { user, channel: 'C0OPS' });
  assert.equal(reply.args.response_type, 'ephemeral', messageText(reply));
  const create = callsSince(n, 'conversations.create').at(-1);
  assert.ok(create, `conversations.create was called: ${messageText(reply)}`);
  const channel = create.result.channel.id as string;
  return { reply, create, channel, name: create.args.name as string, dates: [dateBefore, shanghaiDate()], since: n };
}

const posted = (channel: string, re: RegExp) => t.fake.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === channel && re.test(messageText(c)));

let inc1: { channel: string; name: string };
/** The approval card posted after call `n`. */
const cardAfter = (n: number) => t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');

describe('/incident declare', () => {
  test('creates the channel, invites the declarer and responders, pins the card, announces, and posts the plan', async () => {
    const d = await declare('Checkout API returns 502 --sev sev1');
    inc1 = d;
    assert.ok(d.dates.map((x) => `inc-${x}-checkout-api-returns-502`).includes(d.name), d.name);
    assert.match(messageText(d.reply), new RegExp(`Incident #\\d+ declared: Checkout API returns 502[\\s\\S]*<#${d.channel}>`));

    const invite = callsSince(d.since, 'conversations.invite').find((c) => c.args.channel === d.channel);
    assert.ok(invite, 'invited');
    const invited = String(invite.args.users).split(',');
    assert.ok(invited.includes(OPER) && invited.includes(OPER2), invited.join());
    assert.ok(!invited.includes('U0BOT'), 'the bot does not invite itself');
    assert.deepEqual(new Set(t.fake.channel(d.channel)!.members.filter((m) => m !== 'U0BOT')), new Set([OPER, OPER2]));

    const card = posted(d.channel, /🚨 Incident #\d+: Checkout API returns 502/)!;
    const cardText = messageText(card);
    assert.match(cardText, /Status\*\n🔴 investigating/);
    assert.match(cardText, /Severity\*\nsev1/);
    assert.match(cardText, /Declared\*\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+08:00 by <@U0OPER>/);
    assert.match(cardText, /Elapsed\*\n/);
    assert.match(cardText, /commander: <@U0OPER>/);
    assert.match(cardText, /comms: \(nobody yet\)/);
    const pin = callsSince(d.since, 'pins.add').find((c) => c.args.channel === d.channel);
    assert.equal(pin?.args.timestamp, card.result.ts, 'the card is what gets pinned');
    assert.deepEqual(t.fake.channel(d.channel)!.pins, [card.result.ts]);
    const topic = callsSince(d.since, 'conversations.setTopic').find((c) => c.args.channel === d.channel);
    assert.match(String(topic?.args.topic), /sev1 · investigating · commander <@U0OPER> · Checkout API returns 502/);

    const announce = posted('C0INCIDENTS', /Checkout API returns 502/)!;
    assert.match(messageText(announce), new RegExp(`sev1 service outage, declared by <@U0OPER>\\. Follow it in <#${d.channel}>`));

    const plan = posted(d.channel, /Plan §8\.1 Service outage/)!;
    const steps = (plan.args.blocks as any[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements).filter((e: any) => e.action_id === 'incident.check');
    assert.equal(steps.length, 6);
    for (const step of ['Confirm the scope of the outage', 'Notify the people concerned', 'Start the emergency plan', 'Restore the service quickly', 'Analyse the cause of the outage', 'Write the incident report']) {
      assert.match(messageText(plan), new RegExp(`☐ \\d\\. ${step}`));
    }

    // Checking a step records who and when, in place.
    await t.click({ user: OPER2, channel: d.channel, ts: plan.result.ts, actionId: 'incident.check', value: steps[0].value });
    const checked = await waitForMessage(t.fake, plan.result.ts, /☑ 1\. Confirm the scope of the outage — <@U0OPERTWO>, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+08:00/);
    assert.match(checked, /1 of 6 steps done/);
  });

  test('the same title twice gets two channels; a taken name and a Chinese-only title still give valid names', async () => {
    const a = await declare('Cache cluster down --sev sev3');
    const b = await declare('Cache cluster down --sev sev3');
    assert.notEqual(a.channel, b.channel);
    assert.equal(b.name, `${a.name}-2`);

    const date = shanghaiDate();
    t.fake.addChannel(`inc-${date}-queue-stuck`);
    const c = await declare('Queue stuck --sev sev4');
    assert.equal(c.name, `inc-${date}-queue-stuck-2`);

    const zh = await declare('数据库宕机 --sev sev4');
    assert.match(zh.name, /^[a-z0-9_-]{1,80}$/);
    assert.equal(zh.name, `inc-${date}-shu-ju-ku-dang-ji`);

    const long = await declare(`${'very long title '.repeat(10)} --sev sev4`);
    assert.ok(long.name.length <= 80, long.name);
  });

  test('without a title, a person typing it gets the form; its answers declare the incident', async () => {
    const n = t.fake.calls.length;
    await t.command('/incident', 'declare', { user: OPER2, channel: 'C0OPS' });
    const open = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'views.open');
    const view = open.args.view;
    assert.equal(view.callback_id, 'incident.declare');
    assert.deepEqual(view.blocks.map((b: any) => b.element.type), ['plain_text_input', 'static_select', 'static_select', 'users_select']);
    await t.submitView(view, OPER2, { title: 'Login page blank', sev: 'sev4', type: 'security', commander: OPER });
    const create = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'conversations.create');
    const channel = create.result.channel.id;
    const plan = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === channel && /Plan §8\.3/.test(messageText(c)));
    assert.match(messageText(plan), /Isolate the affected systems/);
    // The commander chosen in the form gets the role's duties by DM.
    const dm = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === OPER && /commander of incident/.test(messageText(c)));
    assert.match(messageText(dm), /Approve risky changes/);
  });

  test('bad input gets a clear error', async () => {
    const { reply } = await t.run('/incident', 'declare Something --sev sev9', { user: OPER });
    assert.match(messageText(reply), /Unknown severity sev9/);
    const { reply: r2 } = await t.run('/incident', 'note hello', { user: OPER, channel: 'C0OPS' });
    assert.match(messageText(r2), /This is not an incident channel\. Type it in the incident's channel: .*<#C/);
    const { reply: r3 } = await t.run('/incident', 'role pilot <@U0OPERTWO|two>', { user: OPER, channel: inc1.channel });
    assert.match(messageText(r3), /pilot/);
  });
});

describe('timeline', () => {
  test('a 📌 reaction and /incident note add entries in order, at the right times; a second 📌 adds nothing', async () => {
    const said = Date.now() - 10 * 60_000;
    const ts = t.fake.addUserMessage(inc1.channel, OPER2, 'Error rate 40% on /api/orders since the 1.4.2 deploy', { at: said });
    await t.run('/incident', 'note Rolled back to 1.4.1 — "it\'s the new pool size"', { user: OPER, channel: inc1.channel });
    await t.react({ user: OPER, channel: inc1.channel, ts });
    await t.react({ user: MGR, channel: inc1.channel, ts });
    await t.run('/incident', 'role comms <@U0OPERTWO|two>', { user: OPER, channel: inc1.channel });

    const text = await eventually(async () => {
      const { reply } = await t.run('/incident', 'timeline', { user: OPER, channel: inc1.channel });
      const s = messageText(reply);
      return /Error rate 40%/.test(s) ? s : undefined;
    });
    const lines = text.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const pin = at(/📌 {2}<@U0OPERTWO> Error rate 40% on \/api\/orders/);
    const declared = at(/declared {2}<@U0OPER> sev1 service outage declared: Checkout API returns 502/);
    const note = at(/note {2}<@U0OPER> Rolled back to 1\.4\.1 — "it's the new pool size"/);
    const role = at(/role {2}<@U0OPER> comms: <@U0OPERTWO>/);
    assert.ok(pin >= 0 && declared >= 0 && note >= 0 && role >= 0, text);
    // The pinned message was said 10 minutes before the declaration: it comes first, at its own time.
    assert.ok(pin < declared && declared < note && note < role, text);
    assert.ok(lines[pin].startsWith(shanghaiTime(Math.floor(said / 1000) * 1000)), `${lines[pin]} vs ${shanghaiTime(said)}`);
    assert.equal(lines.filter((l) => /Error rate 40%/.test(l)).length, 1, 'pinned twice, listed once');
    // The new comms got the duties, in their own DM.
    await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === OPER2 && /comms of incident/.test(messageText(c)));
  });
});

describe('change freeze', () => {
  test('with a sev1 open, /restart elsewhere is refused with a link; nothing restarts', async () => {
    const startedBefore = await stack.engine.startedAt(stack.name('worker'));
    const n = t.fake.calls.length;
    const { reply } = await t.run('/restart', 'worker', { user: OPER2, channel: 'C0OPS' });
    assert.equal(reply.args.response_type, 'ephemeral');
    assert.match(messageText(reply), new RegExp(`Change freeze: incident #\\d+ \\(sev1, Checkout API returns 502\\) is open, coordinated in <#${inc1.channel}>`));
    assert.match(messageText(reply), /commander <@U0OPER> to approve too/);
    await sleep(300);
    assert.equal(callsSince(n, 'chat.postMessage').filter((c) => c.args.channel === 'C0APPROVALS').length, 0, 'no approval card');
    assert.equal(await stack.engine.startedAt(stack.name('worker')), startedBefore);
    // A dry run changes nothing, so it is not frozen.
    const { reply: dry } = await t.run('/restart', 'worker --dry-run', { user: OPER2, channel: 'C0OPS' });
    assert.match(messageText(dry), /Dry run/i);
  });

  test('in the incident channel it asks for approval under the normal rule, and its run lands on the timeline', async () => {
    const n = t.fake.calls.length;
    await t.run('/restart', 'worker', { user: OPER2, channel: inc1.channel });
    const card = await cardAfter(n);
    assert.match(messageText(card), /1 distinct, role approver/);
    const id = findButton(card, 'approval.approve')!.value;
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result.ts, actionId: 'approval.approve', value: id });
    await waitForMessage(t.fake, card.result.ts, /✅ Done/);
    const events = await eventually(async () => {
      const rows = await query<{ kind: string; detail: any }>(t.stateDbUrl, `select kind, detail from incident_events where kind in ('approval', 'command') order by at, id`);
      return rows.some((r) => r.detail.stage === 'finished' && r.detail.id === id) ? rows : undefined;
    });
    const mine = events.filter((e) => e.detail.id === id || e.detail.line === '/restart worker');
    assert.deepEqual(mine.map((e) => e.kind === 'command' ? `command ${e.detail.outcome}` : `${e.detail.stage} ${e.detail.outcome}`).sort(),
      ['command ok', 'finished succeeded', 'requested pending', 'started running'].sort());
  });

  test('elsewhere with --freeze-exception, it also needs the commander: an approver alone is not enough', async () => {
    const startedBefore = await stack.engine.startedAt(stack.name('nginx'));
    const n = t.fake.calls.length;
    await t.run('/restart', 'nginx --freeze-exception "TLS cert expired, users locked out"', { user: OPER2, channel: 'C0OPS' });
    const card = await cardAfter(n);
    assert.match(messageText(card), /and <@U0OPER>, the commander of incident #\d+ \(change freeze\)/);
    assert.match(messageText(card), /--freeze-exception "TLS cert expired, users locked out"/);
    const id = findButton(card, 'approval.approve')!.value;
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result.ts, actionId: 'approval.approve', value: id, responseId: 'mgr-vote' });
    const told = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'mgr-vote');
    assert.match(String(told.args.text), /waits for <@U0OPER>, the incident commander/);
    await sleep(500);
    assert.equal(await stack.engine.startedAt(stack.name('nginx')), startedBefore, 'not run on the approver alone');
    // The commander holds no approver role, but the freeze makes their vote count, and decide.
    await t.click({ user: OPER, channel: 'C0APPROVALS', ts: card.result.ts, actionId: 'approval.approve', value: id });
    await waitForMessage(t.fake, card.result.ts, /✅ Done/);
    assert.notEqual(await stack.engine.startedAt(stack.name('nginx')), startedBefore);
  });

  test('a short freeze reason is refused', async () => {
    const { reply } = await t.run('/restart', 'nginx --freeze-exception "x"', { user: OPER2, channel: 'C0OPS' });
    assert.match(messageText(reply), /say why this cannot wait/);
  });
});

describe('resolve and postmortem', () => {
  test('the postmortem file holds the timeline, the commands run and the follow-ups', async () => {
    await t.run('/incident', 'followup Alert on the 502 rate per endpoint <@U0OPERTWO|two>', { user: OPER, channel: inc1.channel });
    await t.run('/incident', 'update Rolled back; error rate back to 0.1%', { user: OPER, channel: inc1.channel });
    await t.run('/incident', 'status monitoring', { user: OPER, channel: inc1.channel });
    const n = t.fake.calls.length;
    await t.run('/incident', 'resolve Rolled back the 1.4.2 deploy; pool size fixed in 1.4.3', { user: OPER, channel: inc1.channel });
    const resolvedPost = posted(inc1.channel, /✅ Incident #\d+ resolved/)!;
    assert.match(messageText(resolvedPost), /Resolved by <@U0OPER>\. The postmortem draft is attached; this channel is archived \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+08:00/);
    assert.match(messageText(resolvedPost), /Time to acknowledge: .+\nTime to mitigate: .+\nTime to resolve: /);
    const reply = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'response_url' && /Resolved; the postmortem draft was uploaded/.test(messageText(c)));
    assert.equal(reply.args.response_type, 'ephemeral');
    const upload = await eventually(async () => t.fake.uploads().find((u) => u.completed && u.channel_id === inc1.channel && /^postmortem-\d+\.md$/.test(u.filename)));
    const md = upload.bytes!.toString('utf8');
    assert.match(md, /^# Incident report #\d+: Checkout API returns 502/);
    assert.match(md, /## Summary\n\nRolled back the 1\.4\.2 deploy; pool size fixed in 1\.4\.3/);
    assert.match(md, /Time to acknowledge: /);
    assert.match(md, /Time to mitigate: /);
    assert.match(md, /Time to resolve: /);
    assert.match(md, /- commander: @U0OPER/);
    assert.match(md, /- comms: @U0OPERTWO/);
    // Timeline entries: the pin, the note, the update, a checklist step.
    assert.match(md, /\| 📌 \| @U0OPERTWO \| Error rate 40% on \/api\/orders since the 1\.4\.2 deploy \|/);
    assert.match(md, /\| note \| @U0OPER \| Rolled back to 1\.4\.1/);
    assert.match(md, /\| update \| @U0OPER \| Rolled back; error rate back to 0\.1% \|/);
    assert.match(md, /\| plan \| @U0OPERTWO \| done: Confirm the scope of the outage \|/);
    // Commands run, with their outcomes.
    assert.match(md, /## Commands run and their outcomes\n[\s\S]*`\/restart worker` → succeeded/);
    assert.match(md, /`\/incident|`\/restart worker` → waiting for approval/);
    // The checklist and the follow-ups.
    assert.match(md, /- \[x\] 1\. Confirm the scope of the outage \(@U0OPERTWO, /);
    assert.match(md, /- \[ \] 2\. Notify the people concerned/);
    assert.match(md, /## Follow-ups\n\n- \[ \] Alert on the 502 rate per endpoint \(owner @U0OPERTWO\)/);
    // Stored too, as uploaded.
    const [row] = await query<{ postmortem: string; status: string; resolved_at: Date; mitigated_at: Date }>(t.stateDbUrl, 'select postmortem, status, resolved_at, mitigated_at from incidents where channel = $1', [inc1.channel]);
    assert.equal(row.postmortem, md);
    assert.equal(row.status, 'resolved');
    assert.ok(row.mitigated_at <= row.resolved_at);
    // The announcement's thread hears about it, and the card is final.
    const announce = posted('C0INCIDENTS', /Checkout API returns 502/)!;
    await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && c.args.channel === 'C0INCIDENTS' && c.args.thread_ts === announce.result.ts && /Resolved/.test(messageText(c)));
    const card = posted(inc1.channel, /🚨 Incident #\d+: Checkout API returns 502/)!;
    await waitForMessage(t.fake, card.result.ts, /✅ resolved[\s\S]*Duration/);
  });

  test('after resolution the freeze is lifted', async () => {
    const open = await query<{ id: number }>(t.stateDbUrl, `select id from incidents where status <> 'resolved' and severity in ('sev1', 'sev2')`);
    assert.equal(open.length, 0);
    const n = t.fake.calls.length;
    await t.run('/restart', 'worker', { user: OPER2, channel: 'C0OPS' });
    const card = await cardAfter(n);
    assert.match(messageText(card), /1 distinct, role approver/);
    await t.click({ user: OPER2, channel: 'C0APPROVALS', ts: card.result.ts, actionId: 'approval.cancel', value: findButton(card, 'approval.cancel')!.value });
  });
});

describe('list and card', () => {
  test('/incident list shows open and recent incidents; /incident in an incident channel re-posts its card', async () => {
    const { reply } = await t.run('/incident', 'list', { user: OPER, channel: 'C0OPS' });
    const text = messageText(reply);
    assert.match(text, /open incidents?\./);
    assert.match(text, /Recently resolved[\s\S]*Checkout API returns 502/);
    const n = t.fake.calls.length;
    await t.run('/incident', '', { user: OPER, channel: inc1.channel });
    const again = await t.fake.waitFor((c: FakeSlackCall) => t.fake.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && c.args.channel === inc1.channel);
    assert.match(messageText(again), /🚨 Incident #\d+: Checkout API returns 502/);
  });
});
