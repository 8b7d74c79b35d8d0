/**
 * A bot process killed in the middle of a restore, on real replicas: during the side restore, and
 * again during the swap window. No row is lost, the card (written by the surviving replica's
 * sweep) and /restore status say where the data is, and what to run next. Also: one backup or
 * restore per target at a time across replicas, and Stop on a running backup.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { findButton, messageText, TOKEN, waitForMessage } from '../helpers/bot.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { startReplica, stopAllReplicas, type Replica } from '../helpers/replicas.ts';
import pg from 'pg';
import { accountRows, databasesLike, query } from '../helpers/sql.ts';
import { scaled, scaledDuration, sleep, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const M1 = 'U0MGR1';
const M2 = 'U0MGR2';
const TIMEOUT = scaled(300_000);

let stack: Stack;
let fake: FakeSlack;
let stateDb: string;
let liveUrl: string;
let database: string;
let config: Record<string, unknown>;
let backupDir: string;

const q = query;
const accounts = () => accountRows(liveUrl);
const dbNames = () => databasesLike(liveUrl, database);

before(async () => {
  stack = await startStack();
  fake = await startFakeSlack({ token: TOKEN });
  const server = await sharedPostgres();
  stateDb = await server.createDatabase();
  liveUrl = await server.createDatabase();
  database = new URL(liveUrl).pathname.slice(1);
  // Big enough that the side restore takes seconds (about 150 MB).
  await pgbenchInit(liveUrl, 10);
  backupDir = mkdtempSync(join(tmpdir(), 'opsbot-backups-'));
  // busybox sleep ignores SIGTERM, so stopping a writer takes its whole stop timeout: a wide swap window.
  const base = stackConfig(stack, { stop_timeout: '6s' });
  config = {
    ...base,
    targets: { ...base.targets, local: true, postgres: { main: { url: liveUrl } } },
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], manager: [M1, M2] },
    permissions: { backup: ['operator'], restore: ['operator'] },
    approvals: { lease: scaledDuration(2000), sweep_interval: '300ms', rules: { restore: { approvers: ['manager'], count: 2 } } },
    backups: { postgres: { main: { run_on: 'local', dir: backupDir, jobs: 2 } } },
    restore: { stop_services: ['backend', 'worker'], keep_previous: '7d' },
  };
});
after(async () => {
  if (process.env.DUMP_REPLICA_LOGS) for (const r of started) (await import('node:fs')).writeFileSync(`/tmp/replica-${r.name}.log`, r.logs());
  await stopAllReplicas();
  await fake?.stop();
  await stack?.engine.stop();
});

const started: Replica[] = [];
async function replica(name: string): Promise<Replica> {
  const r = await startReplica({ name, databaseUrl: stateDb, slackApiUrl: fake.url, config, env: { LOG_LEVEL: 'info' } });
  // DUMP_REPLICA_LOGS=1 writes each replica's log to /tmp/replica-<name>.log for a failing run.
  started.push(r);
  await r.ready();
  return r;
}

let seq = 0;
async function command(via: Replica, text: string, cmd = '/backup'): Promise<void> {
  const ack = await via.command({ command: cmd, text, user_id: OPER, channel_id: 'C0OPS', response_url: fake.responseUrl(`c${++seq}`) });
  assert.equal(ack.status, 200);
}

/** The next card posted in `channel` after `mark`. */
const nextCard = (mark: number, channel: string) =>
  fake.waitFor((c) => fake.calls.indexOf(c) >= mark && c.method === 'chat.postMessage' && c.args.channel === channel, scaled(30_000));

async function backup(via: Replica): Promise<string> {
  const mark = fake.calls.length;
  await command(via, '');
  const card = await nextCard(mark, 'C0OPS');
  const text = await waitForMessage(fake, card.result!.ts as string, /Backup (\S+) complete|Failed/, scaled(180_000));
  const m = /Backup (\S+) complete/.exec(text);
  assert.ok(m, text);
  return m[1];
}

/** /restore <id> through `via`, approved by both managers; returns the card. */
async function approvedRestore(via: Replica, id: string): Promise<{ ts: string; id: string; card: FakeSlackCall }> {
  const mark = fake.calls.length;
  await command(via, id, '/restore');
  const card = await nextCard(mark, 'C0APPROVALS');
  const rid = findButton(card, 'approval.approve')!.value;
  const ts = card.result!.ts as string;
  for (const user of [M1, M2]) {
    const res = await via.click({ user, channel: 'C0APPROVALS', ts, actionId: 'approval.approve', value: rid, responseUrl: fake.responseUrl(`${rid}-${user}`) });
    assert.equal(res.status, 200);
    await fake.waitFor((c) => c.method === 'response_url' && c.target === `${rid}-${user}`, scaled(30_000));
  }
  return { ts, id: rid, card };
}

describe('a restore whose bot is killed', () => {
  test('during the side restore, then during the swap: no row is lost, and the card says where the data is', { timeout: TIMEOUT }, async () => {
    let a = await replica('A');
    const id = await backup(a);
    const rows = await accounts();

    // 1. Killed while pg_restore fills the side database.
    const r1 = await approvedRestore(a, id);
    await until('the side database', scaled(60_000), dbNames, (names) => names.some((n) => n.includes('_restore_')), 20);
    await sleep(300);
    assert.ok(a.signal('SIGKILL'));
    await a.exited;
    const b = await replica('B');
    const card1 = await waitForMessage(fake, r1.ts, /Interrupted/, scaled(30_000));
    assert.match(card1, new RegExp(`Interrupted: The live database ${database} was not changed: the original data is there`));
    assert.match(card1, new RegExp(`The unfinished copy ${database}_restore_\\d{8}t\\d{6} is left; the cleanup schedule drops it`));
    assert.equal(await accounts(), rows, 'no row lost');
    const [state1] = await q<{ state: string }>(stateDb, 'select state from approval_requests where id = $1', [r1.id]);
    assert.equal(state1.state, 'interrupted');

    // 2. Killed in the swap window: the writers are being stopped (6 s each), nothing renamed yet.
    const r2 = await approvedRestore(b, id);
    await waitForMessage(fake, r2.ts, /stopping backend and worker and swapping/, scaled(120_000));
    await sleep(1000);
    assert.ok(b.signal('SIGKILL'));
    await b.exited;
    // dockerd finishes the stops it was asked for; then a replica starts and sweeps.
    await until('the writers stopped', scaled(20_000), async () => stack.engine.docker('inspect', '-f', '{{.State.Running}}', stack.name('worker')), (v) => v === 'false');
    const c = await replica('C');
    const card2 = await waitForMessage(fake, r2.ts, /Interrupted/, scaled(30_000));
    // Either the swap had not happened (original live) or it had (restored live, original kept): the card says which.
    const swapped = /The restored data is live/.test(card2);
    if (swapped) {
      assert.match(card2, new RegExp(`original data is kept in ${database}_before_`));
      assert.match(card2, new RegExp(`/restore undo ${r2.id}`));
    } else {
      assert.match(card2, new RegExp(`The live database ${database} was not changed`));
    }
    // The writers it stopped are named, with what to run.
    assert.match(card2, /worker is exited: start it with \/restart worker/);
    assert.equal(await accounts(), rows, 'no row lost');

    // /restore status on the surviving replica lists the databases and what each is.
    const mark = fake.calls.length;
    await command(c, 'status', '/restore');
    const status = await fake.waitFor((x) => fake.calls.indexOf(x) >= mark && (x.method === 'chat.postMessage' || x.method === 'response_url') && /Restores of main/.test(messageText(x)), scaled(30_000));
    assert.match(messageText(status), new RegExp(`${database} · `));
    a = c;
    await stack.engine.docker('start', stack.name('backend'), stack.name('worker'));
  });

  test('one backup or restore per target at a time, across replicas; Stop removes a partial backup', { timeout: TIMEOUT }, async () => {
    const [a, b] = await Promise.all([replica('D'), replica('E')]);
    // A session holding a table's exclusive lock keeps pg_dump waiting for it: the backup runs
    // until this test lets go, however fast the machine is.
    const blocker = new pg.Client({ connectionString: liveUrl });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table pgbench_history in access exclusive mode');
    after(() => blocker.end().catch(() => {}));
    const mark = fake.calls.length;
    await command(a, '');
    const first = await nextCard(mark, 'C0OPS');
    await waitForMessage(fake, first.result!.ts as string, /Running/, scaled(30_000));
    // A second backup of the same target, through the other replica, is refused while it runs.
    const mark2 = fake.calls.length;
    await command(b, '');
    const second = await nextCard(mark2, 'C0OPS');
    const refused = await waitForMessage(fake, second.result!.ts as string, /Failed|complete/, scaled(60_000));
    assert.match(refused, /Not started: r-\d+ \(\/backup, by <@U0OPER>\) is running on the same target/);

    // Stop on the running one (clicked through the other replica): the partial backup goes.
    const stop = findButton((await fake.waitFor((x) => x.method === 'chat.update' && x.args.ts === first.result!.ts && !!findButton(x, 'approval.stop'), scaled(30_000))), 'approval.stop')!;
    const before = readdirSync(backupDir).length;
    const res = await b.click({ user: OPER, channel: 'C0OPS', ts: first.result!.ts as string, actionId: 'approval.stop', value: stop.value, responseUrl: fake.responseUrl('stop') });
    assert.equal(res.status, 200);
    assert.match(String((await fake.waitFor((x) => x.method === 'response_url' && x.target === 'stop', scaled(30_000))).args.text), /Stopping r-\d+/);
    const stopped = await waitForMessage(fake, first.result!.ts as string, /Stopped by|complete/, scaled(60_000));
    assert.match(stopped, /Stopped by <@U0OPER>\. Stopped; the partial backup \S+ was removed/);
    assert.ok(readdirSync(backupDir).length <= before, 'no partial backup directory is left');
    await blocker.query('rollback');
    const [row] = await q<{ state: string; error: string }>(stateDb, "select state, error from backups order by started_at desc limit 1");
    assert.equal(row.state, 'failed');
    assert.equal(row.error, 'stopped');
  });
});
