/**
 * Two real bot processes on one PostgreSQL: an incident without updates is reminded once per
 * `update_every`, not once per replica, and its channel is archived once after resolution.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { messageText, TOKEN } from '../helpers/bot.ts';
import { startReplica, stopAllReplicas } from '../helpers/replicas.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const COMMS = 'U0COMMS';
const UPDATE_EVERY = 3000;

let fake: FakeSlack | undefined;
after(async () => {
  await stopAllReplicas();
  await fake?.stop();
});

test('no update within update_every gives one reminder across two replicas; the channel is archived once', { timeout: scaled(180_000) }, async () => {
  fake = await startFakeSlack({ token: TOKEN });
  const db = await (await sharedPostgres()).createDatabase();
  const config = {
    roles: { operator: [OPER, COMMS] },
    incidents: {
      severities: { sev1: { update_every: `${UPDATE_EVERY}ms`, freeze: true } },
      default_severity: 'sev1',
      check_every: '1s',
      archive_after: '1s',
    },
  };
  const opts = { databaseUrl: db, slackApiUrl: fake.url, config };
  const a = await startReplica({ name: 'A', ...opts });
  const b = await startReplica({ name: 'B', ...opts });
  await Promise.all([a.ready(), b.ready()]);
  const logs = () => `${a.logs().slice(-3000)}\n${b.logs().slice(-3000)}`;

  await a.command({ command: '/incident', text: 'declare Payments timing out', user_id: OPER, channel_id: 'C0OPS', response_url: fake.responseUrl('declare') });
  const create = await fake.waitFor((c) => c.method === 'conversations.create', scaled(15_000));
  const channel = create.result.channel.id as string;
  await b.command({ command: '/incident', text: `role comms <@${COMMS}|comms>`, user_id: OPER, channel_id: channel, response_url: fake.responseUrl('role') });
  await fake.waitFor((c) => c.method === 'response_url' && c.target === 'role', scaled(15_000));

  const reminders = () => fake!.calls.filter((c: FakeSlackCall) => c.method === 'chat.postMessage' && c.args.channel === channel && /time for an update/.test(messageText(c)));
  const first = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === channel && /time for an update/.test(messageText(c)), scaled(20_000));
  assert.match(messageText(first), new RegExp(`<@${OPER}> <@${COMMS}> no update for 3 sec`));
  // Both replicas sweep every second; within the next interval there is still exactly one.
  await sleep(UPDATE_EVERY / 2);
  assert.equal(reminders().length, 1, `one reminder, not one per replica\n${logs()}`);

  // An update resets the clock: nothing for most of an interval after it.
  await a.command({ command: '/incident', text: 'update Card processor failing over', user_id: COMMS, channel_id: channel, response_url: fake.responseUrl('update') });
  await fake.waitFor((c) => c.method === 'response_url' && c.target === 'update', scaled(15_000));
  const afterUpdate = reminders().length;
  await sleep(UPDATE_EVERY * 0.7);
  assert.equal(reminders().length, afterUpdate, 'no reminder right after an update');
  // Then, silent for update_every again: exactly one more.
  await fake.waitFor((c) => reminders().includes(c) && reminders().indexOf(c) === afterUpdate, scaled(20_000));
  await sleep(UPDATE_EVERY / 2);
  assert.equal(reminders().length, afterUpdate + 1, logs());

  // Resolved: archived once, archive_after later, though both replicas look.
  await b.command({ command: '/incident', text: 'resolve Failed over to the standby processor', user_id: OPER, channel_id: channel, response_url: fake.responseUrl('resolve') });
  await fake.waitFor((c) => c.method === 'conversations.archive' && c.args.channel === channel, scaled(20_000));
  await sleep(1500);
  assert.equal(fake.calls.filter((c) => c.method === 'conversations.archive' && c.args.channel === channel).length, 1);
  assert.equal(fake.channel(channel)?.archived, true);
  const remindersAtEnd = reminders().length;
  await sleep(UPDATE_EVERY + 500);
  assert.equal(reminders().length, remindersAtEnd, 'a resolved incident is not reminded');
  assert.equal(await Promise.all([a.stop(), b.stop()]).then((codes) => codes.join(',')), '0,0', logs());
});
