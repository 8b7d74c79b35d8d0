/** Roles from config, including Slack user groups resolved through usergroups.users.list. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { messageText, startTestBot, TOKEN, type TestBot } from '../helpers/bot.ts';

let fake: FakeSlack;
let t: TestBot;

before(async () => {
  fake = await startFakeSlack({ token: TOKEN, usergroups: { S0ONCALL: ['U0GROUPIE'] } });
  t = await startTestBot({
    roles: { operator: ['S0ONCALL', 'U0DIRECT'] },
    permissions: { health: { roles: ['operator'], channels: ['C0OPS', 'C0WAR'] } },
    targets: { local: true },
  }, { fake });
});
after(async () => {
  await t?.close();
  await fake?.stop();
});

test('a member of a user group named in a role may run the command', async () => {
  const { reply } = await t.run('/health', 'host', { user: 'U0GROUPIE' });
  assert.equal(reply.method, 'chat.postMessage');
  assert.match(messageText(reply), /host local disk/);
  assert.ok(fake.calls.some((c) => c.method === 'usergroups.users.list' && c.args.usergroup === 'S0ONCALL'));
});

test('a user listed directly may run it too', async () => {
  const { reply } = await t.run('/health', 'host', { user: 'U0DIRECT' });
  assert.equal(reply.method, 'chat.postMessage');
});

test('anyone else is refused, privately, with the role they lack', async () => {
  const { reply } = await t.run('/health', '', { user: 'U0STRANGER' });
  assert.equal(reply.method, 'response_url');
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(messageText(reply), /needs the role operator/);
});

test('outside the allowed channels the command is refused and names them', async () => {
  const { reply } = await t.run('/health', '', { user: 'U0DIRECT', channel: 'C0RANDOM' });
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(messageText(reply), /can only be used in <#C0OPS>, <#C0WAR>/);
});

test('/ops help lists only what the caller may run', async () => {
  const stranger = messageText((await t.run('/ops', 'help', { user: 'U0STRANGER' })).reply);
  assert.doesNotMatch(stranger, /\/health:/);
  assert.match(stranger, /\/ops:/);
  const member = messageText((await t.run('/ops', '', { user: 'U0GROUPIE' })).reply);
  assert.match(member, /\/health:/);
});
