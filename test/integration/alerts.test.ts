/**
 * Alert cards from a real Alertmanager (Debian's prometheus-alertmanager) sending its webhook to
 * the bot, with the fake Slack and the state in real PostgreSQL: one card per group, updated on
 * resolve, Silence creating a real silence, /silences and Expire, /alerts, and 401 on a bad token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlertmanager, type Alertmanager } from '../harness/alertmanager.ts';
import { freePort } from '../harness/ports.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const AM_TOKEN = 'alertmanager-test-token-0123456789';
const OPER = 'U0ONCALL';
const NOBODY = 'U0NOBODY';

let t: TestBot;
let am: Alertmanager;

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, ms = scaled(20_000)): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`nothing after ${ms} ms; alertmanager log tail:\n${am?.logs().slice(-3000)}`);
    await sleep(150);
  }
}

/** The cards posted in `channel` whose text matches `re`. */
const cards = (channel: string, re: RegExp): FakeSlackCall[] =>
  t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200 && c.result.ok && c.args.channel === channel && re.test(messageText(c)));

/** A button (by action_id) of a recorded message, with its url when it is a link. */
function button(call: FakeSlackCall, actionId: string): { value?: string; url?: string } | undefined {
  for (const b of (call.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string; url?: string }> }>) {
    const e = b.elements?.find((x) => x.action_id === actionId);
    if (e) return e;
  }
  return undefined;
}

before(async () => {
  const amPort = await freePort();
  t = await startTestBot({
    roles: { operator: [OPER] },
    permissions: { silence: ['operator'] },
    services: { backend: {} },
    alerts: {
      token: AM_TOKEN,
      channels: { default: 'C0ALERTS', by_label: { severity: { critical: 'C0ONCALL' } } },
      alertmanager: { url: `http://127.0.0.1:${amPort}` },
      prometheus: { url: 'http://prometheus.example.com:9090' },
    },
  });
  am = await startAlertmanager({ webhookUrl: `${t.url}/alertmanager`, token: AM_TOKEN, port: amPort });
});

after(async () => {
  await am?.stop();
  await t?.close();
});

describe('alert cards from a real Alertmanager', () => {
  let card: FakeSlackCall;

  test('a firing group gives one card in the channel its severity maps to, with its buttons and a link to Prometheus', async () => {
    await am.postAlerts([
      { labels: { alertname: 'HighErrorRate', service: 'backend', severity: 'critical', instance: 'app1:5000' }, annotations: { summary: 'High error rate detected' } },
      { labels: { alertname: 'HighErrorRate', service: 'backend', severity: 'critical', instance: 'app2:5000' }, annotations: { summary: 'High error rate detected' } },
    ]);
    card = await eventually(() => cards('C0ONCALL', /HighErrorRate/)[0]);
    const text = messageText(card);
    assert.match(text, /HighErrorRate: 2 alerts firing/);
    assert.match(text, /High error rate detected/);
    assert.match(text, /instance=app1:5000/);
    assert.ok(button(card, 'alert.silence.1h') && button(card, 'alert.silence.4h') && button(card, 'alert.ack'));
    assert.equal(button(card, 'alert.diagnose')?.value, 'backend');
    const link = button(card, 'alert.link')?.url ?? '';
    assert.match(link, /^http:\/\/prometheus\.example\.com:9090\/graph\?g0\.expr=/, 'the expression link uses the configured Prometheus origin');
    // Nothing went to the default channel, and only one card was posted for the group.
    await sleep(scaled(2500));
    assert.equal(cards('C0ONCALL', /HighErrorRate/).length, 1);
    assert.equal(cards('C0ALERTS', /HighErrorRate/).length, 0);
    const audit = await query<{ actor: string; outcome: string }>(t.stateDbUrl, `select actor, outcome from audit_events where command = 'alertmanager'`);
    assert.ok(audit.some((r) => r.actor === 'alertmanager' && r.outcome === 'posted'), JSON.stringify(audit));
  });

  test('Acknowledge records who on the card', async () => {
    await t.click({ user: OPER, channel: 'C0ONCALL', ts: card.result.ts, actionId: 'alert.ack', value: button(card, 'alert.ack')!.value! });
    await waitForMessage(t.fake, card.result.ts, new RegExp(`Acknowledged[\\s\\S]*${OPER}`));
  });

  test('Diagnose runs /diagnose for the service as the clicker, in the card\'s thread', async () => {
    await t.click({ user: OPER, channel: 'C0ONCALL', ts: card.result.ts, actionId: 'alert.diagnose', value: 'backend' });
    const reply = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === card.result.ts, scaled(20_000));
    assert.match(messageText(reply), /Diagnose: backend/);
    const rows = await eventually(async () => {
      const r = await query<{ actor: string }>(t.stateDbUrl, `select actor from audit_events where command = 'diagnose'`);
      return r.length ? r : undefined;
    });
    assert.equal(rows[0].actor, OPER);
  });

  test('Declare incident opens an incident named for the alert and its service, declared by the clicker', async () => {
    const declare = ((card.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => b.elements ?? []).find((e) => e.action_id?.startsWith('command.run'));
    assert.equal(declare?.value, '/incident declare "HighErrorRate (backend)"');
    await t.click({ user: OPER, channel: 'C0ONCALL', ts: card.result.ts, actionId: declare!.action_id!, value: declare!.value! });
    const created = await t.fake.waitFor((c) => c.method === 'conversations.create' && c.status === 200, scaled(20_000));
    assert.match(String(created.args.name), /higherrorrate-backend/);
    const rows = await eventually(async () => {
      const r = await query<{ title: string; declared_by: string }>(t.stateDbUrl, 'select title, declared_by from incidents');
      return r.length ? r : undefined;
    });
    assert.deepEqual(rows, [{ title: 'HighErrorRate (backend)', declared_by: OPER }]);
  });

  test('/alerts lists the firing alerts, grouped', async () => {
    const { reply } = await t.run('/alerts', '', { channel: 'C0OPS' });
    const text = messageText(reply);
    assert.match(text, /2 alerts firing in 1 group/);
    assert.match(text, /alertname=HighErrorRate, service=backend → opsbot/);
    // Silenced groups are left out: /alerts shows what still needs someone (checked after Silence below).
    assert.match(text, /instance=app1:5000/);
  });

  test('Silence needs the role: someone without it is refused and nothing is silenced', async () => {
    await t.click({ user: NOBODY, channel: 'C0ONCALL', ts: card.result.ts, actionId: 'alert.silence.1h', value: button(card, 'alert.silence.1h')!.value!, responseId: 'denied-silence' });
    const reply = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'denied-silence', scaled(10_000));
    assert.match(messageText(reply), /⛔/);
    assert.equal((await am.silences()).length, 0);
  });

  let silenceId: string;
  test('Silence 1h creates a silence that Alertmanager lists, audited, and the card says so', async () => {
    const before = Date.now();
    await t.click({ user: OPER, channel: 'C0ONCALL', ts: card.result.ts, actionId: 'alert.silence.1h', value: button(card, 'alert.silence.1h')!.value!, responseId: 'silence' });
    const reply = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'silence', scaled(10_000));
    const silences = await am.silences();
    assert.equal(silences.length, 1);
    const s = silences[0];
    silenceId = s.id;
    assert.match(messageText(reply), /Silenced alertname="HighErrorRate", service="backend"/);
    assert.equal(s.status.state, 'active');
    assert.deepEqual(s.matchers.map((m) => `${m.name}=${m.value}`).sort(), ['alertname=HighErrorRate', 'service=backend']);
    assert.equal(s.createdBy, OPER);
    const hour = Date.parse(s.endsAt) - before;
    assert.ok(hour > 3_500_000 && hour < 3_700_000, `ends in about an hour, not ${hour} ms`);
    await waitForMessage(t.fake, card.result.ts, new RegExp(`Silenced[\\s\\S]*${s.id}`));
    const audit = await eventually(async () => {
      const r = await query<{ actor: string; args: string; outcome: string }>(t.stateDbUrl, `select actor, args, outcome from audit_events where command = 'alerts' order by id`);
      return r.filter((x) => x.args.startsWith('silence')).length >= 2 ? r.filter((x) => x.args.startsWith('silence')) : undefined;
    });
    assert.deepEqual(audit.map((r) => [r.actor, r.outcome]), [[NOBODY, 'denied'], [OPER, 'ok']]);
  });

  test('/silences lists it with an Expire button, and Expire ends it in Alertmanager', async () => {
    const { reply } = await t.run('/silences', '', { user: OPER, channel: 'C0OPS' });
    const text = messageText(reply);
    assert.match(text, /alertname="HighErrorRate"/);
    assert.match(text, new RegExp(silenceId));
    const expire = findButton(reply, 'silence.expire');
    assert.equal(expire?.value, silenceId);
    // Someone without the role cannot expire it.
    await t.click({ user: NOBODY, channel: 'C0OPS', ts: reply.result.ts ?? '1.1', actionId: 'silence.expire', value: silenceId, responseId: 'expire-denied' });
    await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'expire-denied', scaled(10_000));
    assert.equal((await am.silences()).find((s) => s.id === silenceId)?.status.state, 'active');
    await t.click({ user: OPER, channel: 'C0OPS', ts: reply.result.ts ?? '1.1', actionId: 'silence.expire', value: silenceId, responseId: 'expire' });
    const done = await t.fake.waitFor((c) => c.method === 'response_url' && c.target === 'expire', scaled(10_000));
    assert.match(messageText(done), /has expired/);
    assert.equal((await am.silences()).find((s) => s.id === silenceId)?.status.state, 'expired');
    const audit = await query<{ actor: string; outcome: string }>(t.stateDbUrl, `select actor, outcome from audit_events where command = 'silences' and args like 'expire%' order by id`);
    assert.deepEqual(audit.map((r) => [r.actor, r.outcome]), [[NOBODY, 'denied'], [OPER, 'ok']]);
  });

  test('its resolution updates that same card, and no second card is posted', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const started = new Date(Date.now() - 60_000).toISOString();
    await am.postAlerts([
      { labels: { alertname: 'HighErrorRate', service: 'backend', severity: 'critical', instance: 'app1:5000' }, startsAt: started, endsAt: past },
      { labels: { alertname: 'HighErrorRate', service: 'backend', severity: 'critical', instance: 'app2:5000' }, startsAt: started, endsAt: past },
    ]);
    const text = await waitForMessage(t.fake, card.result.ts, /HighErrorRate: resolved/, scaled(30_000));
    assert.doesNotMatch(text, /Silence 1h/);
    assert.equal(cards('C0ONCALL', /HighErrorRate/).length, 1);
    assert.equal(button({ args: t.fake.messages().find((m) => m.ts === card.result.ts) } as never, 'alert.silence.1h'), undefined, 'a resolved card has no Silence buttons');
  });

  test('a wrong or missing token gets 401 and nothing is posted; malformed JSON gets 400', async () => {
    const before = t.fake.calls.filter((c) => c.method === 'chat.postMessage').length;
    const body = JSON.stringify({ version: '4', groupKey: '{}:{alertname="Forged"}', status: 'firing', receiver: 'x', groupLabels: { alertname: 'Forged' }, commonLabels: { alertname: 'Forged' }, commonAnnotations: {}, externalURL: '', alerts: [{ status: 'firing', labels: { alertname: 'Forged' }, annotations: {}, startsAt: new Date().toISOString() }] });
    for (const headers of [{ authorization: 'Bearer wrong-token-0123456789' }, {} as Record<string, string>, { authorization: `Basic ${AM_TOKEN}` }, { authorization: `Bearer ${AM_TOKEN}x` }]) {
      const res = await fetch(`${t.url}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      assert.equal(res.status, 401, JSON.stringify(headers));
    }
    const bad = await fetch(`${t.url}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${AM_TOKEN}` }, body: '{"version": "4",' });
    assert.equal(bad.status, 400);
    const wrongShape = await fetch(`${t.url}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${AM_TOKEN}` }, body: '{"version": "3"}' });
    assert.equal(wrongShape.status, 400);
    await sleep(scaled(1500));
    assert.equal(t.fake.calls.filter((c) => c.method === 'chat.postMessage').length, before);
    const rows = await query(t.stateDbUrl, `select 1 from alert_groups where group_key like '%Forged%'`);
    assert.equal(rows.length, 0);
  });

  test('an Alertmanager that cannot be reached gives a clear error', async () => {
    await am.stop();
    const { reply } = await t.run('/alerts', '', { channel: 'C0OPS' });
    assert.match(messageText(reply), /Alertmanager at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
  });
});
