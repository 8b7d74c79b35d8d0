/**
 * The secrets corpus and hostile Slack markup, pushed through a real opsbot against the fake
 * Slack, reaching every output path: a channel post with an uploaded file (/logs of a local log
 * that holds them), arguments echoed back in posts and ephemeral replies (--grep, an unknown
 * service, /audit listing earlier commands), log lines (a pino logger writing to a captured
 * stream) and audit rows. Every recorded Slack call is checked raw, text AND blocks AND file
 * bytes: the test helpers' messageText() undoes escaping, so it is not used for these checks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { createLogger } from '../../src/core/log.ts';
import { startBot, type Bot } from '../../src/main.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { slashCommand } from '../harness/slack-client.ts';
import { ALL_SECRETS, HOSTILE_LINE, HOSTILE_MARKUP, SECRET_CASES } from '../fixtures/secrets-corpus.ts';

const SIGNING = 'test-signing-secret';
const TOKEN = 'xoxb-test-token';
const USER = 'U0ONCALL';
const CHANNEL = 'C0OPS';
/** In the config file's path, so that the "opsbot started" log line carries a secret in a field. */
const PATH_SECRET = 'S3KRTcfgpath';

let fake: FakeSlack;
let bot: Bot;
let url: string;
const logLines: string[] = [];
let seq = 0;

// Single-line cases: each stays one log line, so the excerpt's last lines hold them.
const oneLine = SECRET_CASES.filter((c) => !c.text.includes('\n')).map((c) => c.text);
const multiLine = SECRET_CASES.filter((c) => c.text.includes('\n')).map((c) => c.text);
const LOG = [
  ...Array.from({ length: 30 }, (_, i) => `2024-05-01 12:00:${String(i).padStart(2, '0')} INFO GET /api/health 200`),
  ...multiLine,
  HOSTILE_LINE,
  ...oneLine,
  HOSTILE_LINE,
].join('\n');

before(async () => {
  fake = await startFakeSlack({ token: TOKEN });
  const pg = await sharedPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-hostile-'));
  writeFileSync(join(dir, 'app.log'), `${LOG}\n`);
  const cfgDir = join(dir, `token=${PATH_SECRET}`);
  mkdirSync(cfgDir);
  const config = join(cfgDir, 'opsbot.yaml');
  writeFileSync(config, stringify({
    channels: { ops: CHANNEL },
    targets: { local: true },
    services: { app: { host: 'local', logs: { app: join(dir, 'app.log') } } },
  }));
  const log = createLogger('debug', { write: (s: string) => void logLines.push(s) });
  bot = await startBot({
    SLACK_SIGNING_SECRET: SIGNING, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.url, OPSBOT_CONFIG: config,
    DATABASE_URL: await pg.createDatabase(), PORT: '0', HOST: '127.0.0.1',
  }, { kind: 'http' }, log);
  url = `http://127.0.0.1:${bot.port}`;
});

after(async () => {
  await bot?.close();
  await fake?.stop();
});

/** Runs a command and returns every Slack call it caused (posts, updates, responses, uploads). */
async function run(command: string, text: string, done: (c: FakeSlackCall) => boolean): Promise<FakeSlackCall[]> {
  const from = fake.calls.length;
  const rid = `hostile${++seq}`;
  const ack = await slashCommand(url, SIGNING, { command, text, user_id: USER, channel_id: CHANNEL, response_url: fake.responseUrl(rid) });
  assert.equal(ack.status, 200);
  await fake.waitFor((c) => fake.calls.indexOf(c) >= from && (c.target === rid || c.method !== 'response_url') && done(c), 20_000);
  await bot.idle();
  return fake.calls.slice(from).filter((c) => c.method !== 'response_url' || c.target === rid);
}

/** Every string a recorded call carries to Slack: text, every block's texts, file bytes. */
function payloadStrings(call: FakeSlackCall): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk({ text: call.args.text, blocks: call.args.blocks, attachments: call.args.attachments, initial_comment: call.args.initial_comment });
  if (call.method === 'upload') {
    const upload = fake.uploads().find((u) => u.id === call.target);
    out.push(upload?.bytes?.toString('utf8') ?? '');
  }
  return out;
}

/** Texts Slack parses as mrkdwn: the message text and every mrkdwn text object in the blocks. */
function mrkdwnStrings(call: FakeSlackCall): string[] {
  const out: string[] = typeof call.args.text === 'string' ? [call.args.text] : [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(call.args.blocks);
  return out;
}

function assertClean(calls: FakeSlackCall[], what: string): void {
  assert.ok(calls.length > 0, `${what}: no Slack call recorded`);
  for (const call of calls) {
    for (const s of payloadStrings(call)) {
      for (const secret of ALL_SECRETS) assert.ok(!s.includes(secret), `${what}: ${JSON.stringify(secret)} leaked through ${call.method}: ${s.slice(0, 500)}`);
      assert.ok(!/[\uE000-\uE01F]/.test(s), `${what}: a sentinel character reached Slack through ${call.method}`);
    }
    for (const s of mrkdwnStrings(call)) {
      for (const m of HOSTILE_MARKUP) assert.ok(!s.includes(m), `${what}: ${m} live in ${call.method}: ${s.slice(0, 500)}`);
    }
  }
}

const messages = (calls: FakeSlackCall[]) => calls.filter((c) => ['chat.postMessage', 'chat.update', 'response_url', 'chat.postEphemeral'].includes(c.method));

describe('hostile text through every output path', () => {
  test('/logs: the channel post (text and blocks) and the uploaded file are redacted and escaped', async () => {
    const calls = await run('/logs', 'app --lines 200', (c) => c.method === 'files.completeUploadExternal');
    assertClean(calls, '/logs');
    const post = calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL);
    assert.ok(post, 'posted in the channel');
    // The excerpt holds the hostile line: it is there, escaped, in text-rendering blocks.
    const blocks = mrkdwnStrings(post).slice(1).join('\n');
    assert.ok(blocks.includes('&lt;!channel&gt;') && blocks.includes('&lt;@U123&gt;') && blocks.includes('&lt;https://evil.example|click&gt;'), blocks);
    assert.ok(blocks.includes('SLACK_BOT_TOKEN xox*-*** ok') && blocks.includes('redis-cli -h 127.0.0.1 -a *** info memory'), `redacted, the rest kept: ${blocks}`);
    const file = fake.uploads().at(-1)!.bytes!.toString('utf8');
    assert.ok(file.includes('2024-05-01 12:00:00 INFO GET /api/health 200'), 'the file holds the whole output');
    assert.ok(file.includes('[private key redacted]') && file.includes('xox*-***'), file.slice(-2000));
    assert.ok(calls.some((c) => c.method === 'upload'), 'the file bytes were recorded');
  });

  test('an argument echoed in a channel post (--grep) is escaped in text and blocks', async () => {
    const calls = await run('/logs', 'app --grep "<!channel>"', (c) => c.method === 'chat.postMessage' || c.method === 'response_url');
    assertClean(calls, '--grep');
    const reply = messages(calls)[0];
    const all = mrkdwnStrings(reply);
    assert.ok(all[0].includes('containing "&lt;!channel&gt;"'), `the text echoes the argument escaped: ${all[0]}`);
    assert.ok(all.slice(1).some((s) => s.includes('containing "&lt;!channel&gt;"')), 'and so do the blocks');
  });

  test('arguments echoed in ephemeral usage errors are escaped and redacted', async () => {
    // Each text makes /logs echo one hostile token back (unknown kind, unknown service, unexpected argument).
    const cases: Array<[string, string]> = [
      ['app <!channel>', '&lt;!channel&gt;'],
      ['<!here>', '&lt;!here&gt;'],
      ['app app <@U123>', '&lt;@U123&gt;'],
      ['app <#C1>', '&lt;#C1&gt;'],
      ['app <https://evil.example|click>', '&lt;https://evil.example|click&gt;'],
      ['app <!subteam^S0ADMINS>', '&lt;!subteam^S0ADMINS&gt;'],
    ];
    for (const [text, escaped] of cases) {
      const calls = await run('/logs', text, (c) => c.method === 'response_url' || c.method === 'chat.postMessage');
      assertClean(calls, `/logs ${text}`);
      const reply = messages(calls)[0];
      assert.equal(reply.args.response_type, 'ephemeral');
      const all = mrkdwnStrings(reply);
      assert.ok(all[0].includes(escaped), `the text echoes ${escaped}: ${all[0]}`);
      assert.ok(all.slice(1).some((s) => s.includes(escaped)), `the blocks echo ${escaped}: ${all.slice(1).join(' | ')}`);
    }
    // Secrets given as arguments are echoed redacted.
    for (const text of oneLine.map((t) => `app ${t}`)) {
      assertClean(await run('/logs', text, (c) => c.method === 'response_url' || c.method === 'chat.postMessage'), `/logs ${text.slice(0, 40)}`);
    }
    const unknown = await run('/nosuch', `${oneLine.join(' ')} ${HOSTILE_LINE}`, (c) => c.method === 'response_url');
    assertClean(unknown, 'unknown command');
  });

  test('audit rows hold no secret, and /audit shows them escaped, with the bot’s own mention live', async () => {
    const rows = await bot.store.query<{ args: string; detail: unknown }>('select args, detail from audit_events');
    assert.ok(rows.length >= 5, `${rows.length} audit rows`);
    assert.ok(rows.some((r) => r.args.includes('<!channel>')), 'the hostile arguments were audited as sent');
    for (const r of rows) {
      const row = JSON.stringify(r);
      for (const secret of ALL_SECRETS) assert.ok(!row.includes(secret), `${JSON.stringify(secret)} in an audit row: ${row}`);
    }
    const calls = await run('/audit', `--limit 50 --user <@${USER}|oncall>`, (c) => c.method === 'response_url');
    assertClean(calls, '/audit');
    const reply = messages(calls)[0];
    const all = mrkdwnStrings(reply);
    assert.ok(all.some((s) => s.includes(`<@${USER}>`)), `the bot's mention of the user is live: ${all.join('\n').slice(0, 500)}`);
    assert.ok(all.some((s) => s.includes('&lt;!channel&gt;')), 'the audited arguments are shown escaped');
  });

  test('log lines, with their structured fields, hold no secret', () => {
    assert.ok(logLines.length > 0, 'the bot logged');
    const started = logLines.find((l) => l.includes('opsbot started'));
    assert.ok(started, 'the start line was captured');
    assert.ok(started.includes('token=***'), `the config path field is redacted: ${started}`);
    const all = logLines.join('');
    for (const secret of [...ALL_SECRETS, PATH_SECRET]) assert.ok(!all.includes(secret), `${JSON.stringify(secret)} leaked into the log`);
    assert.ok(!/[\uE000-\uE01F]/.test(all), 'no mention token in the log');
  });
});
