// The fake's channels, pins and history, driven through @slack/web-api's WebClient so that what is
// checked is the wire format a bot sees: HTTP 200 with {ok:false,error} surfacing as a platform
// error carrying Slack's code (and `errors` where Slack sends them). Then the other direction:
// events and modal submissions with selects, as a real Bolt app receives them from slack-client.
import { test, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { startFakeSlack } from './fake-slack.ts';
import { freePort } from './ports.ts';
import { actionBody, postEvent, postSigned, reactionAddedEvent, viewSubmissionPayload } from './slack-client.ts';

const fake = await startFakeSlack({ token: 'xoxb-test' });
const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
after(() => fake.stop());
beforeEach(() => fake.reset());

/** The Slack error code a call fails with, and the rest of its answer. */
async function slackError(call: Promise<unknown>): Promise<{ code: string; data: Record<string, any> }> {
  try {
    await call;
  } catch (err) {
    const e = err as WebAPIPlatformError;
    assert.equal(e.code, ErrorCode.PlatformError, String(err));
    return { code: e.data.error, data: e.data as Record<string, any> };
  }
  assert.fail('the call succeeded');
}

test('conversations.create: the channel Slack returns, and the bot is its only member', async () => {
  const before = Math.floor(Date.now() / 1000);
  const res = await client.conversations.create({ name: 'inc-20260101-db-down' });
  const channel = res.channel!;
  assert.match(channel.id!, /^C[A-Z0-9]+$/);
  assert.equal(channel.name, 'inc-20260101-db-down');
  assert.equal(channel.name_normalized, 'inc-20260101-db-down');
  assert.equal(channel.is_channel, true);
  assert.equal(channel.is_private, false);
  assert.equal(channel.is_archived, false);
  assert.equal(channel.is_member, true);
  assert.equal(channel.creator, 'U0BOT');
  assert.ok(channel.created! >= before && channel.created! <= Math.floor(Date.now() / 1000) + 1);
  assert.deepEqual(channel.topic, { value: '', creator: '', last_set: 0 });
  assert.deepEqual(channel.purpose, { value: '', creator: '', last_set: 0 });
  assert.equal('num_members' in channel, false, 'create does not report num_members; conversations.info does when asked');

  const priv = await client.conversations.create({ name: 'inc_private', is_private: true });
  assert.equal(priv.channel!.is_private, true);
  assert.notEqual(priv.channel!.id, channel.id);

  assert.deepEqual(fake.channels().map((c) => c.name), ['inc-20260101-db-down', 'inc_private']);
  const stored = fake.channel('inc-20260101-db-down')!;
  assert.equal(stored.id, channel.id);
  assert.deepEqual(stored.members, ['U0BOT']);
  assert.equal(fake.channel(channel.id!)?.name, channel.name, 'found by id too');
  assert.equal(fake.channel('#inc-20260101-db-down')?.id, channel.id, 'and by #name');
  // Slack writes the creator's join into the new channel.
  assert.deepEqual(fake.messages(channel.id).map((m) => [m.subtype, m.user]), [['channel_join', 'U0BOT']]);
});

test('conversations.create: Slack\'s name rules and error codes', async () => {
  const cases: Array<[string, string]> = [
    ['', 'invalid_name_required'],
    ['Inc-Upper', 'invalid_name_specials'],
    ['inc db', 'invalid_name_specials'],
    ['inc.db', 'invalid_name_specials'],
    ['数据库宕机', 'invalid_name_specials'],
    ['#inc', 'invalid_name_specials'],
    ['a'.repeat(81), 'invalid_name_maxlength'],
    ['---', 'invalid_name_punctuation'],
  ];
  for (const [name, code] of cases) {
    assert.equal((await slackError(client.conversations.create({ name }))).code, code, JSON.stringify(name));
  }
  assert.equal((await client.conversations.create({ name: 'a'.repeat(80) })).channel!.name!.length, 80);
  assert.equal((await client.conversations.create({ name: 'inc-1_x' })).ok, true);
  assert.equal((await slackError(client.conversations.create({ name: 'inc-1_x' }))).code, 'name_taken');

  // A channel that existed before the test, and an archived one: both names are taken.
  fake.addChannel('inc-20260101-outage');
  fake.addChannel('inc-old', { archived: true });
  assert.equal((await slackError(client.conversations.create({ name: 'inc-20260101-outage' }))).code, 'name_taken');
  assert.equal((await slackError(client.conversations.create({ name: 'inc-old' }))).code, 'name_taken');
  assert.equal((await client.conversations.create({ name: 'inc-20260101-outage-2' })).ok, true);
  assert.equal(fake.channels().length, 5);
});

test('conversations.invite: members recorded; Slack\'s errors, all-or-nothing unless force', async () => {
  const { channel } = await client.conversations.create({ name: 'inc-invite' });
  const id = channel!.id!;
  const res = await client.conversations.invite({ channel: id, users: 'U0ONCALL,U0MGR' });
  assert.deepEqual(fake.channel(id)!.members, ['U0BOT', 'U0ONCALL', 'U0MGR']);
  assert.equal(res.channel!.id, id);
  const joins = fake.messages(id).filter((m) => m.subtype === 'channel_join' && m.inviter === 'U0BOT').map((m) => m.user);
  assert.deepEqual(joins, ['U0ONCALL', 'U0MGR']);
  assert.deepEqual((await client.conversations.members({ channel: id })).members, ['U0BOT', 'U0ONCALL', 'U0MGR']);

  // One user already in: the call fails with the per-user `errors`, and the new user is not invited.
  const both = await slackError(client.conversations.invite({ channel: id, users: 'U0ONCALL,U0NEW' }));
  assert.equal(both.code, 'already_in_channel');
  assert.deepEqual(both.data.errors, [{ user: 'U0ONCALL', ok: false, error: 'already_in_channel' }]);
  assert.equal(fake.channel(id)!.members.includes('U0NEW'), false);

  // force: the valid ones are invited; the answer still names the ones that were not.
  const forced = await slackError(client.conversations.invite({ channel: id, users: 'U0ONCALL,U0NEW', force: true }));
  assert.deepEqual(forced.data.errors, [{ user: 'U0ONCALL', ok: false, error: 'already_in_channel' }]);
  assert.equal(fake.channel(id)!.members.includes('U0NEW'), true);

  assert.equal((await slackError(client.conversations.invite({ channel: id, users: 'U0BOT' }))).code, 'cant_invite_self');
  assert.equal((await slackError(client.conversations.invite({ channel: id, users: 'nobody' }))).code, 'user_not_found');
  assert.equal((await slackError(client.conversations.invite({ channel: id, users: '' }))).code, 'no_user');
  // conversations.* take ids: a name is not found.
  assert.equal((await slackError(client.conversations.invite({ channel: 'inc-invite', users: 'U0X1' }))).code, 'channel_not_found');
  assert.equal((await slackError(client.conversations.invite({ channel: '', users: 'U0X1' }))).code, 'channel_not_found');

  const outside = fake.addChannel('not-mine', { botMember: false });
  assert.equal((await slackError(client.conversations.invite({ channel: outside.id, users: 'U0X1' }))).code, 'not_in_channel');

  await client.conversations.archive({ channel: id });
  assert.equal((await slackError(client.conversations.invite({ channel: id, users: 'U0X2' }))).code, 'is_archived');
});

test('setTopic, info, archive: topic kept; an archived channel refuses posts, updates and a second archive', async () => {
  const { channel } = await client.conversations.create({ name: 'inc-topic' });
  const id = channel!.id!;
  const posted = await client.chat.postMessage({ channel: id, text: 'card' });
  const set = await client.conversations.setTopic({ channel: id, topic: 'SEV1 · investigating · commander <@U0ONCALL>' });
  assert.equal(set.channel!.topic!.value, 'SEV1 · investigating · commander <@U0ONCALL>');
  assert.equal(set.channel!.topic!.creator, 'U0BOT');
  assert.ok(set.channel!.topic!.last_set! > 0);
  assert.equal(fake.channel(id)!.topic, 'SEV1 · investigating · commander <@U0ONCALL>');
  assert.equal(fake.messages(id).at(-1)!.subtype, 'channel_topic');
  assert.equal((await slackError(client.conversations.setTopic({ channel: id, topic: 'x'.repeat(251) }))).code, 'too_long');
  assert.equal((await slackError(client.conversations.setTopic({ channel: 'CNOPE-1', topic: 't' }))).code, 'channel_not_found');

  await client.conversations.invite({ channel: id, users: 'U0ONCALL' });
  const info = await client.conversations.info({ channel: id, include_num_members: true });
  assert.equal(info.channel!.name, 'inc-topic');
  assert.equal(info.channel!.num_members, 2);
  assert.equal(info.channel!.topic!.value, fake.channel(id)!.topic);

  assert.deepEqual(await client.conversations.archive({ channel: id }).then((r) => r.ok), true);
  assert.equal(fake.channel(id)!.archived, true);
  assert.equal((await client.conversations.info({ channel: id })).channel!.is_archived, true);
  assert.equal((await slackError(client.conversations.archive({ channel: id }))).code, 'already_archived');
  assert.equal((await slackError(client.chat.postMessage({ channel: id, text: 'late' }))).code, 'is_archived');
  assert.equal((await slackError(client.chat.update({ channel: id, ts: posted.ts!, text: 'late' }))).code, 'is_inactive');
  assert.equal((await slackError(client.conversations.setTopic({ channel: id, topic: 'late' }))).code, 'is_archived');
});

test('chat.postMessage: a user id is a DM recorded under that id; a known name resolves to its channel id', async () => {
  const dm = await client.chat.postMessage({ channel: 'U0ONCALL', text: 'you are the commander' });
  assert.equal(fake.messages('U0ONCALL')[0].ts, dm.ts);
  const { channel } = await client.conversations.create({ name: 'inc-names' });
  const byName = await client.chat.postMessage({ channel: '#inc-names', text: 'hello' });
  assert.equal(byName.channel, channel!.id);
  assert.equal(fake.messages(channel!.id).at(-1)!.text, 'hello');
  // Ids never created still work (the bot is in C0OPS in a real workspace) and are not listed.
  await client.chat.postMessage({ channel: 'C0OPS', text: 'ops' });
  assert.deepEqual(fake.channels().map((c) => c.name), ['inc-names']);
  const priv = fake.addChannel('secret', { is_private: true, botMember: false });
  assert.equal((await slackError(client.chat.postMessage({ channel: priv.id, text: 'x' }))).code, 'channel_not_found');
});

test('conversations.history: newest first, Slack\'s range and paging, one message by its ts, replies apart', async () => {
  const { channel } = await client.conversations.create({ name: 'inc-history' });
  const id = channel!.id!;
  const card = (await client.chat.postMessage({ channel: id, text: 'card' })).ts!;
  const human = fake.addUserMessage(id, 'U0ONCALL', 'db primary is down');
  const reply = await client.chat.postMessage({ channel: id, text: 'in thread', thread_ts: human });
  const human2 = fake.addUserMessage(id, 'U0MGR', 'failing over', { thread_ts: human });
  const last = fake.addUserMessage(id, 'U0MGR', 'back up');
  assert.ok([card, human, reply.ts!, human2, last].every((ts, i, all) => i === 0 || Number(ts) > Number(all[i - 1])), 'increasing');

  const all = await client.conversations.history({ channel: id });
  const top = all.messages!.filter((m) => !m.subtype);
  assert.deepEqual(top.map((m) => m.text), ['back up', 'db primary is down']);
  assert.deepEqual(all.messages!.map((m) => m.text).slice(0, 3), ['back up', 'db primary is down', 'card'], 'bot and people, newest first');
  assert.equal(all.has_more, false);
  const parent = all.messages!.find((m) => m.ts === human)!;
  assert.equal(parent.user, 'U0ONCALL');
  assert.equal(parent.type, 'message');
  assert.equal(parent.thread_ts, human);
  assert.equal(parent.reply_count, 2);
  assert.deepEqual(parent.reply_users, ['U0BOT', 'U0MGR']);
  assert.equal(parent.latest_reply, human2);
  assert.equal((parent.blocks as any[])[0].type, 'rich_text');
  const bot = all.messages!.find((m) => m.ts === card)!;
  assert.equal(bot.bot_id, 'B0BOT');

  // How a bot reads the one message a reaction points at.
  const one = await client.conversations.history({ channel: id, latest: human, inclusive: true, limit: 1 });
  assert.deepEqual(one.messages!.map((m) => m.ts), [human]);
  const exclusive = await client.conversations.history({ channel: id, latest: human, limit: 1 });
  assert.deepEqual(exclusive.messages!.map((m) => m.ts), [card]);
  const after = await client.conversations.history({ channel: id, oldest: human });
  assert.deepEqual(after.messages!.map((m) => m.ts), [last]);

  const first = await client.conversations.history({ channel: id, limit: 2 });
  assert.equal(first.has_more, true);
  assert.deepEqual(first.messages!.map((m) => m.ts), [last, human]);
  const second = await client.conversations.history({ channel: id, limit: 2, cursor: first.response_metadata!.next_cursor });
  assert.deepEqual(second.messages!.map((m) => m.text), ['card', '<@U0BOT> has joined the channel']);
  assert.equal(second.has_more, false);

  const thread = await client.conversations.replies({ channel: id, ts: human });
  assert.deepEqual(thread.messages!.map((m) => m.text), ['db primary is down', 'in thread', 'failing over']);
  assert.equal(thread.messages![2].parent_user_id, 'U0ONCALL');
  assert.deepEqual((await client.conversations.replies({ channel: id, ts: card })).messages!.map((m) => m.ts), [card]);
  assert.equal((await slackError(client.conversations.replies({ channel: id, ts: '1.000001' }))).code, 'thread_not_found');
  assert.equal((await slackError(client.conversations.history({ channel: id, latest: 'soon' }))).code, 'invalid_ts_latest');
  assert.equal((await slackError(client.conversations.history({ channel: 'nope' }))).code, 'channel_not_found');
  const outside = fake.addChannel('elsewhere', { botMember: false });
  assert.equal((await slackError(client.conversations.history({ channel: outside.id }))).code, 'not_in_channel');
});

test('addUserMessage at a chosen time: its ts is that time, unique in the channel, later posts stay later', async () => {
  const at = Date.now() - 10 * 60_000;
  const a = fake.addUserMessage('C0INC', 'U0ONCALL', 'ten minutes ago', { at: new Date(at) });
  const b = fake.addUserMessage('C0INC', 'U0ONCALL', 'same instant', { at });
  assert.equal(Math.round(Number(a) * 1000), at);
  assert.notEqual(a, b);
  const next = (await client.chat.postMessage({ channel: 'C0INC', text: 'now' })).ts!;
  assert.ok(Number(next) > Date.now() / 1000 - 5);
  const history = await client.conversations.history({ channel: 'C0INC' });
  assert.deepEqual(history.messages!.map((m) => m.text), ['now', 'same instant', 'ten minutes ago']);
});

test('pins.add / pins.list, Slack\'s errors; chat.getPermalink for messages and thread replies', async () => {
  const { channel } = await client.conversations.create({ name: 'inc-pins' });
  const id = channel!.id!;
  const card = (await client.chat.postMessage({ channel: id, text: 'card' })).ts!;
  const note = fake.addUserMessage(id, 'U0ONCALL', 'note');
  assert.equal((await client.pins.add({ channel: id, timestamp: card })).ok, true);
  assert.equal((await slackError(client.pins.add({ channel: id, timestamp: card }))).code, 'already_pinned');
  assert.equal((await slackError(client.pins.add({ channel: id, timestamp: '1.000001' }))).code, 'message_not_found');
  assert.equal((await slackError(client.pins.add({ channel: 'nope', timestamp: card }))).code, 'channel_not_found');
  assert.equal((await slackError(client.pins.add({ channel: id } as never))).code, 'no_item_specified');
  await client.pins.add({ channel: id, timestamp: note });
  assert.deepEqual(fake.channel(id)!.pins, [card, note]);

  const list = await client.pins.list({ channel: id });
  assert.deepEqual(list.items!.map((i) => [i.type, i.channel, i.message!.ts, i.created_by]), [
    ['message', id, note, 'U0BOT'],
    ['message', id, card, 'U0BOT'],
  ]);
  assert.match(String(list.items![1].message!.permalink), /\/archives\/C[A-Z0-9]+\/p\d{16}$/);
  const pinned = (await client.conversations.history({ channel: id, latest: card, inclusive: true, limit: 1 })).messages![0];
  assert.deepEqual((pinned as { pinned_to?: string[] }).pinned_to, [id]);

  const link = await client.chat.getPermalink({ channel: id, message_ts: card });
  assert.equal(link.channel, id);
  assert.equal(link.permalink, `https://opsbot-test.slack.com/archives/${id}/p${card.replace('.', '')}`);
  // The announcement channel was never created here; its messages still have links.
  const announced = (await client.chat.postMessage({ channel: 'C0INCIDENTS', text: 'declared' })).ts!;
  const reply = (await client.chat.postMessage({ channel: 'C0INCIDENTS', text: 'update', thread_ts: announced })).ts!;
  const replyLink = await client.chat.getPermalink({ channel: 'C0INCIDENTS', message_ts: reply });
  assert.equal(replyLink.permalink, `https://opsbot-test.slack.com/archives/C0INCIDENTS/p${reply.replace('.', '')}?thread_ts=${announced}&cid=C0INCIDENTS`);
  assert.equal((await slackError(client.chat.getPermalink({ channel: id, message_ts: '1.000001' }))).code, 'message_not_found');
});

test('addReaction shows in the message; reset clears channels, pins and messages', async () => {
  const { channel } = await client.conversations.create({ name: 'inc-reset' });
  const ts = fake.addUserMessage(channel!.id!, 'U0ONCALL', 'rolled back');
  fake.addReaction(channel!.id!, ts, 'U0MGR', 'pushpin');
  fake.addReaction(channel!.id!, ts, 'U0ONCALL', 'pushpin');
  const [m] = (await client.conversations.history({ channel: channel!.id!, latest: ts, inclusive: true, limit: 1 })).messages!;
  assert.deepEqual(m.reactions, [{ name: 'pushpin', users: ['U0MGR', 'U0ONCALL'], count: 2 }]);
  assert.throws(() => fake.addReaction(channel!.id!, '1.000001', 'U0MGR', 'pushpin'), /no message/);

  fake.reset();
  assert.deepEqual(fake.channels(), []);
  assert.equal(fake.channel('inc-reset'), undefined);
  assert.equal(fake.messages().length, 0);
  assert.equal((await client.conversations.create({ name: 'inc-reset' })).ok, true, 'the name is free again');
});

test('slack-client: Bolt takes our signed reaction_added and view submissions with selects', async () => {
  const secret = 'signing-secret';
  const app = new App({
    token: 'xoxb-test',
    signingSecret: secret,
    botId: 'B0BOT',
    botUserId: 'U0BOT',
    tokenVerificationEnabled: false,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
  });
  const seen: Array<Record<string, any>> = [];
  app.event('reaction_added', async ({ event, body, context }) => {
    seen.push({ event, teamId: context.teamId, botUserId: context.botUserId, retryNum: context.retryNum, envelope: body.type });
  });
  app.view('declare', async ({ ack, view }) => {
    await ack();
    seen.push({ values: view.state.values });
  });
  const port = await freePort();
  await app.start(port);
  const base = `http://127.0.0.1:${port}`;
  try {
    const ts = fake.addUserMessage('C0INC', 'U0ONCALL', 'db primary is down');
    const event = reactionAddedEvent({ user: 'U0MGR', channel: 'C0INC', ts, itemUser: 'U0ONCALL' });
    assert.deepEqual(Object.keys(event), ['type', 'user', 'reaction', 'item_user', 'item', 'event_ts']);
    assert.equal(event.reaction, 'pushpin');
    assert.match(event.event_ts, /^\d{10}\.\d{6}$/);
    assert.equal((await postEvent(base, secret, event)).status, 200);
    assert.equal((await postEvent(base, secret, event, { retryNum: 1 })).status, 200);
    const stale = Math.floor(Date.now() / 1000) - 600;
    assert.equal((await postEvent(base, secret, event, { timestamp: stale })).status, 401, 'events are signed and time-checked too');
    await waitUntil(() => seen.length >= 2);
    assert.deepEqual(seen[0].event.item, { type: 'message', channel: 'C0INC', ts });
    assert.equal(seen[0].teamId, 'T0TEST');
    assert.equal(seen[0].botUserId, 'U0BOT');
    assert.equal(seen[0].envelope, 'event_callback');
    assert.equal(seen[1].retryNum, 1);

    const view = {
      type: 'modal',
      callback_id: 'declare',
      title: { type: 'plain_text', text: 'Declare' },
      blocks: [
        { type: 'input', block_id: 'title', element: { type: 'plain_text_input', action_id: 'v' }, label: { type: 'plain_text', text: 'Title' } },
        {
          type: 'input', block_id: 'sev', label: { type: 'plain_text', text: 'Severity' },
          element: {
            type: 'static_select', action_id: 'v',
            options: ['sev1', 'sev2'].map((v) => ({ text: { type: 'plain_text', text: v.toUpperCase() }, value: v })),
            initial_option: { text: { type: 'plain_text', text: 'SEV2' }, value: 'sev2' },
          },
        },
        {
          type: 'input', block_id: 'type', label: { type: 'plain_text', text: 'Type' },
          element: { type: 'static_select', action_id: 'v', option_groups: [{ label: { type: 'plain_text', text: 'All' }, options: [{ text: { type: 'plain_text', text: 'Outage' }, value: 'outage' }] }] },
        },
        { type: 'input', block_id: 'commander', element: { type: 'users_select', action_id: 'v' }, label: { type: 'plain_text', text: 'Commander' } },
        { type: 'input', block_id: 'watchers', optional: true, element: { type: 'multi_users_select', action_id: 'v' }, label: { type: 'plain_text', text: 'Watchers' } },
      ],
    };
    const answer = (values: Record<string, any>) => postSigned(`${base}/slack/events`, secret, actionBody(viewSubmissionPayload(view, 'U0ONCALL', values)));
    assert.equal((await answer({ title: 'DB down', sev: 'sev1', type: 'outage', commander: 'U0MGR', watchers: ['U0A', 'U0B'] })).status, 200);
    await waitUntil(() => seen.length >= 3);
    const values = seen[2].values;
    assert.deepEqual(values.title.v, { type: 'plain_text_input', value: 'DB down' });
    assert.deepEqual(values.sev.v, { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'SEV1' }, value: 'sev1' } });
    assert.equal(values.type.v.selected_option.value, 'outage');
    assert.deepEqual(values.commander.v, { type: 'users_select', selected_user: 'U0MGR' });
    assert.deepEqual(values.watchers.v, { type: 'multi_users_select', selected_users: ['U0A', 'U0B'] });

    // Untouched inputs send their initial value, or null / nothing chosen.
    assert.equal((await answer({ title: 'x' })).status, 200);
    await waitUntil(() => seen.length >= 4);
    assert.equal(seen[3].values.sev.v.selected_option.value, 'sev2');
    assert.equal(seen[3].values.commander.v.selected_user, null);
    assert.deepEqual(seen[3].values.watchers.v.selected_users, []);
    assert.throws(() => viewSubmissionPayload(view, 'U0ONCALL', { sev: 'sev9' }), /no option with value "sev9"/);
  } finally {
    await app.stop();
  }
});

async function waitUntil(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
