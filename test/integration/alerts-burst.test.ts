/**
 * Alert cards under load and across replicas: a burst of 30 groups from a real Alertmanager while
 * Slack rate-limits chat.postMessage gives 30 cards, none lost; and two replicas sharing one state
 * store that receive the same group at once post one card, which either of them then updates.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlertmanager, type Alertmanager } from '../harness/alertmanager.ts';
import { freePort } from '../harness/ports.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const AM_TOKEN = 'alertmanager-burst-token-0123456789';
const config = (amPort: number) => ({
  // Paced at 5 posts a second per channel, so that the burst stays short; Slack's 429s on top.
  storm: { share_window: '0s', health_cache: '0s', post_interval: '200ms' },
  alerts: { token: AM_TOKEN, channels: { default: 'C0ALERTS' }, alertmanager: { url: `http://127.0.0.1:${amPort}` } },
});

let a: TestBot;
let b: TestBot;
let am: Alertmanager;

const posted = (bot: TestBot, re: RegExp): FakeSlackCall[] =>
  bot.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200 && c.result.ok && c.args.channel === 'C0ALERTS' && re.test(messageText(c)));

before(async () => {
  const amPort = await freePort();
  a = await startTestBot(config(amPort));
  // The second replica: the same fake Slack and the same state database.
  b = await startTestBot(config(amPort), { fake: a.fake, env: { DATABASE_URL: a.stateDbUrl } });
  am = await startAlertmanager({ webhookUrl: `${a.url}/alertmanager`, token: AM_TOKEN, port: amPort });
});

after(async () => {
  await am?.stop();
  await b?.close();
  await a?.close();
});

describe('alert bursts and replicas', () => {
  test('a burst of 30 groups under a Slack rate limit gives 30 cards, none lost and none twice', async () => {
    a.fake.rateLimit('chat.postMessage', 1, 3);
    await am.postAlerts(Array.from({ length: 30 }, (_, i) => ({ labels: { alertname: `Burst${String(i).padStart(2, '0')}`, service: 'backend', severity: 'warning' }, annotations: { summary: `burst ${i}` } })));
    const deadline = Date.now() + scaled(60_000);
    while (posted(a, /Burst\d\d/).length < 30 && Date.now() < deadline) await sleep(200);
    await sleep(scaled(2000));
    const names = posted(a, /Burst\d\d/).map((c) => /Burst\d\d/.exec(messageText(c))![0]).sort();
    assert.deepEqual(names, Array.from({ length: 30 }, (_, i) => `Burst${String(i).padStart(2, '0')}`), 'each group has exactly one card');
    const limited = a.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429);
    assert.equal(limited.length, 3, 'the rate limit was hit, and waited out');
    const rows = await query<{ n: string }>(a.stateDbUrl, `select count(*)::text as n from alert_groups where group_key like '%Burst%' and ts is not null`);
    assert.equal(rows[0].n, '30');
  });

  test('two replicas receiving the same group at once post one card; the other replica updates it', async () => {
    const payload = (status: 'firing' | 'resolved') => JSON.stringify({
      version: '4', groupKey: '{}:{alertname="RaceAlert"}', truncatedAlerts: 0, status, receiver: 'opsbot',
      groupLabels: { alertname: 'RaceAlert' }, commonLabels: { alertname: 'RaceAlert', severity: 'warning' }, commonAnnotations: { summary: 'racing' }, externalURL: '',
      alerts: [{ status, labels: { alertname: 'RaceAlert', severity: 'warning' }, annotations: { summary: 'racing' }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'abc' }],
    });
    const send = (bot: TestBot, status: 'firing' | 'resolved') =>
      fetch(`${bot.url}/alertmanager`, { method: 'POST', headers: { authorization: `Bearer ${AM_TOKEN}`, 'content-type': 'application/json' }, body: payload(status) });
    const answers = await Promise.all([send(a, 'firing'), send(b, 'firing'), send(a, 'firing'), send(b, 'firing')]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
    await a.bot.idle();
    await b.bot.idle();
    await sleep(scaled(1500));
    const cards = posted(a, /RaceAlert/);
    assert.equal(cards.length, 1, 'one card for the group');
    // The replica that did not post it resolves it: the same card changes.
    const poster = cards[0];
    const [row] = await query<{ ts: string }>(a.stateDbUrl, `select ts from alert_groups where group_key = '{}:{alertname="RaceAlert"}'`);
    assert.equal(row.ts, poster.result.ts);
    assert.equal((await send(b, 'resolved')).status, 200);
    await waitForMessage(a.fake, poster.result.ts, /RaceAlert: resolved/);
    assert.equal((await send(a, 'resolved')).status, 200);
    await a.bot.idle();
    assert.equal(posted(a, /RaceAlert/).length, 1, 'still one card');
  });
});
