/** The bot dies between approval and completion: after a restart the action shows "interrupted" and is not re-run. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { stringify } from 'yaml';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { freePort } from '../harness/ports.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { actionBody, blockActionPayload, postSigned, slashCommand } from '../harness/slack-client.ts';
import { findButton, SECRET, TOKEN, waitForMessage } from '../helpers/bot.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: Stack;
let fake: FakeSlack;
let env: NodeJS.ProcessEnv;
let port: number;
const children: ChildProcess[] = [];

async function startBotProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) return child;
    await sleep(100);
  }
  throw new Error('bot process did not come up');
}

const cardText = (ts: string, re: RegExp) => waitForMessage(fake, ts, re);

before(async () => {
  stack = await startStack();
  fake = await startFakeSlack({ token: TOKEN });
  port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-crash-'));
  const config = join(dir, 'opsbot.yaml');
  // busybox sleep ignores SIGTERM, so this restart takes the whole 6 s stop timeout: time to kill the bot mid-action.
  writeFileSync(config, stringify({
    ...stackConfig(stack, { stop_timeout: '6s' }),
    roles: { operator: ['U0OPER'], approver: ['U0MGR'] },
    permissions: { restart: ['operator'] },
    approvals: { lease: '1s', sweep_interval: '300ms' },
  }));
  env = {
    PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'silent',
    SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.url,
    OPSBOT_CONFIG: config, DATABASE_URL: await (await sharedPostgres()).createDatabase(), PORT: String(port), HOST: '127.0.0.1',
  };
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fake?.stop();
  await stack?.engine.stop();
});

test('killed while running: the card shows interrupted and the restart is not run again', { timeout: 90_000 }, async () => {
  const first = await startBotProcess();
  const url = `http://127.0.0.1:${port}`;
  const since = new Date().toISOString();
  await slashCommand(url, SECRET, { command: '/restart', text: 'worker', user_id: 'U0OPER', channel_id: 'C0OPS', response_url: fake.responseUrl('req') });
  const card = await fake.waitFor((c) => c.method === 'chat.postMessage' && !!findButton(c, 'approval.approve'), 10_000);
  const ts = card.result!.ts as string;
  const id = findButton(card, 'approval.approve')!.value;
  await postSigned(`${url}/slack/events`, SECRET, actionBody(blockActionPayload({ user: 'U0MGR', channel: 'C0OPS', messageTs: ts, actionId: 'approval.approve', value: id, responseUrl: fake.responseUrl('ok') })));
  await cardText(ts, /🔄 Running: restarting/);

  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  await startBotProcess();

  const text = await cardText(ts, /⚠️ Interrupted: the bot stopped while this was running\. It was not re-run/);
  assert.doesNotMatch(text, /Done/);
  // Let dockerd finish the restart it was asked for, then some more: exactly one start, never a second.
  await sleep(9000);
  assert.equal(await stack.engine.countEvents(stack.name('worker'), 'start', since), 1);
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  const { rows } = await db.query("select outcome from audit_events where args = $1 and outcome like 'approval.%' order by id", [id]);
  await db.end();
  assert.deepEqual(rows.map((r) => r.outcome), ['approval.requested', 'approval.approve_vote', 'approval.approved', 'approval.started', 'approval.interrupted']);
});
