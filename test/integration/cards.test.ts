/** Card updates against the fake Slack Web API: at most one chat.update a second per card, latest state never lost. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WebClient } from '@slack/web-api';
import { SlackCards } from '../../src/slack/cards.ts';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { TOKEN, messageText } from '../helpers/bot.ts';
import { sleep } from '../helpers/wait.ts';

let fake: FakeSlack;
let client: WebClient;

before(async () => {
  fake = await startFakeSlack({ token: TOKEN });
  client = new WebClient(TOKEN, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
});
after(async () => fake?.stop());

const report = (n: number) => ({ title: 'Card', status: 'info' as const, summary: `step ${n}` });

test('updates to one card, steady or in bursts, go out at least 1 s apart, ending with the latest', { timeout: 30_000 }, async () => {
  const cards = new SlackCards(client);
  const { channel, ts } = await cards.post('C0CARDS', report(0));
  const started = Date.now();
  const done: Promise<void>[] = [];
  // A steady trickle (one every 300 ms, each sent long before the next arrives), then a burst.
  for (let i = 1; i <= 10; i++) {
    done.push(cards.update(channel, ts, report(i)));
    await sleep(300);
  }
  for (let i = 11; i <= 30; i++) done.push(cards.update(channel, ts, report(i)));
  await Promise.all(done);
  const updates = fake.calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts);
  assert.ok(updates.length >= 3 && updates.length <= 5, `${updates.length} chat.update calls for 30 updates in ${Date.now() - started} ms`);
  for (let i = 1; i < updates.length; i++) {
    const gap = updates[i].at - updates[i - 1].at;
    assert.ok(gap >= 950, `updates ${i - 1} and ${i} were ${gap} ms apart`);
  }
  assert.match(messageText(updates.at(-1)!), /step 30/);
  assert.match(messageText({ method: 'message', args: fake.messages('C0CARDS').find((m) => m.ts === ts) as never, at: 0, status: 200, result: {} }), /step 30/);
});

test('two cards are paced independently', { timeout: 30_000 }, async () => {
  const cards = new SlackCards(client);
  const a = await cards.post('C0CARDS', report(0));
  const b = await cards.post('C0CARDS', report(0));
  const before = fake.calls.length;
  await Promise.all([cards.update(a.channel, a.ts, report(1)), cards.update(b.channel, b.ts, report(1))]);
  const sent = fake.calls.slice(before).filter((c) => c.method === 'chat.update');
  assert.deepEqual(sent.map((c) => c.args.ts).sort(), [a.ts, b.ts].sort());
});
