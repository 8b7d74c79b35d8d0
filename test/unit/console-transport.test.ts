/** The console's Web API for channels: what an incident does there is printed, and answered in Slack's shapes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebClient, ErrorCode, type WebAPIPlatformError } from '@slack/web-api';
import { ConsoleTransport } from '../../src/console/transport.ts';
import { translator } from '../../src/i18n/index.ts';

function consoleClient(locale: 'en' | 'zh-CN' = 'en') {
  const out: string[] = [];
  const t = translator(locale, 'UTC');
  const transport = new ConsoleTransport((text) => void out.push(text), () => t);
  // The same path the bot's calls take: WebClient → the transport's fetch.
  const client = new WebClient('xoxb-console', { slackApiUrl: 'http://console.invalid/api/', fetch: transport.fetch, retryConfig: { retries: 0 } });
  return { transport, client, out };
}

async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    assert.equal((err as WebAPIPlatformError).code, ErrorCode.PlatformError);
    return (err as WebAPIPlatformError).data.error;
  }
  assert.fail('the call succeeded');
}

test('console: a channel is created, announced in one line, and its posts say where they went', async () => {
  const { transport, client, out } = consoleClient();
  const created: string[] = [];
  transport.onChannelCreated = (c) => void created.push(`${c.name}=${c.id}`);
  const { channel } = await client.conversations.create({ name: 'inc-20260101-db-down' });
  assert.match(channel!.id!, /^C\d{4}$/);
  assert.equal(channel!.name, 'inc-20260101-db-down');
  assert.equal(channel!.is_archived, false);
  assert.deepEqual(created, [`inc-20260101-db-down=${channel!.id}`]);
  assert.deepEqual(out, [`(created channel #inc-20260101-db-down (${channel!.id}); :in ${channel!.id} to type there)\n`]);

  assert.equal(await slackError(client.conversations.create({ name: 'inc-20260101-db-down' })), 'name_taken');
  assert.equal(await slackError(client.conversations.create({ name: '数据库宕机' })), 'invalid_name_specials');

  out.length = 0;
  const id = channel!.id!;
  await client.conversations.invite({ channel: id, users: 'U0ONCALL,U0MGR' });
  await client.conversations.setTopic({ channel: id, topic: 'SEV1 · investigating' });
  const card = await client.chat.postMessage({ channel: id, text: 'Incident card' });
  await client.pins.add({ channel: id, timestamp: card.ts! });
  await client.chat.postMessage({ channel: 'C0INCIDENTS', text: 'Announced' });
  assert.deepEqual(out, [
    '(#inc-20260101-db-down: invited U0ONCALL, U0MGR)\n',
    '(#inc-20260101-db-down topic: SEV1 · investigating)\n',
    '[#inc-20260101-db-down] Incident card\n',
    '(#inc-20260101-db-down: message pinned)\n',
    'Announced\n',
  ]);
  assert.equal(await slackError(client.conversations.invite({ channel: id, users: 'U0ONCALL' })), 'already_in_channel');
  assert.equal(await slackError(client.pins.add({ channel: id, timestamp: card.ts! })), 'already_pinned');

  const link = await client.chat.getPermalink({ channel: id, message_ts: card.ts! });
  assert.equal(link.permalink, `http://console.invalid/archives/${id}/p${card.ts!.replace('.', '')}`);
  const history = await client.conversations.history({ channel: id, latest: card.ts!, inclusive: true, limit: 1 });
  assert.deepEqual(history.messages!.map((m) => m.text), ['Incident card']);
  const info = await client.conversations.info({ channel: id, include_num_members: true });
  assert.equal(info.channel!.topic!.value, 'SEV1 · investigating');
  assert.equal(info.channel!.num_members, 3);

  out.length = 0;
  await client.conversations.archive({ channel: id });
  assert.deepEqual(out, ['(#inc-20260101-db-down archived)\n']);
  assert.equal(await slackError(client.chat.postMessage({ channel: id, text: 'late' })), 'is_archived');
  assert.equal(await slackError(client.conversations.archive({ channel: id })), 'already_archived');
});

test('console: the channel lines in Chinese', async () => {
  const { client, out } = consoleClient('zh-CN');
  const { channel } = await client.conversations.create({ name: 'inc-x' });
  assert.equal(out[0], `（已创建频道 #inc-x（${channel!.id}）；输入 :in ${channel!.id} 切换到该频道）\n`);
});

test('console: an uploaded text file is printed, a picture is saved where it can be opened', async () => {
  const { client, out } = consoleClient();
  await client.filesUploadV2({ channel_id: 'C0OPS', filename: 'plan.json', title: 'Plan', file: Buffer.from('{\n  "a": 1\n}\n') });
  const printed = out.join('');
  assert.match(printed, /\(file attached, 4 lines; first 4 shown\)\n {4}\{\n {4} {2}"a": 1\n {4}\}/);

  out.length = 0;
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2, 3]);
  await client.filesUploadV2({ channel_id: 'C0OPS', filename: 'metrics.png', title: 'Chart', file: png });
  const m = /\(file attached, 15 byte(?:s)?, saved as (\S+metrics\.png)\)/.exec(out.join(''));
  assert.ok(m, out.join(''));
  const { readFileSync, rmSync } = await import('node:fs');
  assert.deepEqual(readFileSync(m[1]), png);
  rmSync(m[1]);
});
