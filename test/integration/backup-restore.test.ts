/**
 * /backup, /backup verify and /restore against a real PostgreSQL (pgbench data) and real
 * containers standing in for the app's writers (backend, worker) on the test dockerd.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { accountRows, databasesLike, otherDatabase, query } from '../helpers/sql.ts';
import { scaled, sleep } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const M1 = 'U0MGR1';
const M2 = 'U0MGR2';
const TIMEOUT = scaled(240_000);

let stack: Stack;
let t: TestBot;
let liveUrl: string;
let database: string;
let backupDir: string;

const q = query;
const accounts = () => accountRows(liveUrl);
const dbNames = () => databasesLike(liveUrl, database);

before(async () => {
  stack = await startStack();
  const server = await sharedPostgres();
  liveUrl = await server.createDatabase();
  database = new URL(liveUrl).pathname.slice(1);
  await pgbenchInit(liveUrl, 1);
  backupDir = mkdtempSync(join(tmpdir(), 'opsbot-backups-'));
  const base = stackConfig(stack);
  t = await startTestBot({
    ...base,
    targets: { ...base.targets, local: true, postgres: { main: { url: liveUrl } } },
    channels: { approvals: 'C0APPROVALS', zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { operator: [OPER, 'schedule:nightly-prune'], manager: [M1, M2] },
    permissions: { backup: ['operator'], restore: ['operator'], schedule: ['operator'] },
    approvals: {
      lease: '2s',
      rules: { restore: { approvers: ['manager'], count: 2 }, 'backup.prune': { approvers: ['manager'], count: 1, schedules: ['schedule:nightly-prune'] } },
    },
    schedules: { 'nightly-prune': { cron: '30 3 * * *', command: '/backup prune', channel: 'C0OPS' } },
    // One of each tier, so that a few backups show what pruning keeps.
    backups: { postgres: { main: { run_on: 'local', dir: backupDir, jobs: 2, keep: { daily: 1, weekly: 0, monthly: 1 } } } },
    restore: { stop_services: ['backend', 'worker'], keep_previous: '7d' },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

/** Runs a job command and returns its card once it shows a final state. */
async function job(cmd: string, text: string, done: RegExp): Promise<{ card: FakeSlackCall; text: string }> {
  const before = t.fake.calls.length;
  const { ack } = await t.run(cmd, text, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS');
  return { card, text: await waitForMessage(t.fake, card.result!.ts as string, done, scaled(120_000)) };
}

async function backup(): Promise<string> {
  const { text } = await job('/backup', '', /Backup (\S+) complete|Failed|failed/);
  const m = /Backup (\S+) complete/.exec(text);
  assert.ok(m, text);
  // A job is started, not approved, and its card says so.
  assert.match(text, /✅ Done: .* \(started by <@U0OPER>\)/);
  return m[1];
}

/** Asks for a restore and returns its approval card. */
async function requestRestore(text: string): Promise<{ card: FakeSlackCall; id: string; ts: string }> {
  const before = t.fake.calls.length;
  await t.run('/restore', text, { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
  return { card, id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
}

const approve = (user: string, r: { id: string; ts: string }) => t.click({ user, channel: 'C0APPROVALS', ts: r.ts, actionId: 'approval.approve', value: r.id, responseId: `${r.id}-${user}` });

describe('/backup', () => {
  test('a full backup: directory format, manifest beside it and in the store, exact row counts', { timeout: TIMEOUT }, async () => {
    const id = await backup();
    const dir = join(backupDir, id);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.id, id);
    assert.equal(manifest.format, 'directory');
    assert.equal(manifest.database, database);
    assert.ok(existsSync(join(dir, 'toc.dat')));
    const accountsRow = manifest.tables.find((x: { name: string }) => x.name === 'pgbench_accounts');
    assert.equal(accountsRow.rows, await accounts());
    assert.equal(manifest.tables.find((x: { name: string }) => x.name === 'pgbench_branches').rows, 1);
    // Every file's sha256 matches what is on disk, and every file on disk is in the manifest.
    const onDisk = readdirSync(dir).filter((f) => f !== 'manifest.json').sort();
    assert.deepEqual(manifest.files.map((f: { name: string }) => f.name), onDisk);
    for (const f of manifest.files) assert.equal(createHash('sha256').update(readFileSync(join(dir, f.name))).digest('hex'), f.sha256, f.name);
    // The state store has it too: /backup list shows it.
    const { reply } = await t.run('/backup', 'list', { user: OPER });
    assert.match(messageText(reply), new RegExp(`${id}.*full.*not verified.*local`));
  });

  test('/backup verify passes a good backup and catches one whose row counts do not match', { timeout: TIMEOUT }, async () => {
    const id = await backup();
    const good = await job('/backup', `verify ${id}`, /verified:|failed verification/);
    assert.match(good.text, /checksums of \d+ files match/);
    assert.match(good.text, new RegExp(`Backup ${id} verified`));
    // No scratch database is left behind.
    assert.deepEqual((await dbNames()).filter((n) => n.includes('_verify_')), []);
    // A manifest that claims one row more than the dump holds.
    await q(t.stateDbUrl, `update backups set manifest = jsonb_set(manifest, '{tables}',
      (select jsonb_agg(case when x->>'name' = 'pgbench_accounts' then jsonb_set(x, '{rows}', to_jsonb((x->>'rows')::int + 1)) else x end) from jsonb_array_elements(manifest->'tables') x)) where id = $1`, [id]);
    const bad = await job('/backup', `verify ${id}`, /verified:|failed verification/);
    assert.match(bad.text, /failed verification/);
    assert.match(bad.text, /public\.pgbench_accounts: [\d,]+ rows, the manifest says [\d,]+/);
    const [row] = await q<{ verify_ok: boolean }>(t.stateDbUrl, 'select verify_ok from backups where id = $1', [id]);
    assert.equal(row.verify_ok, false);
  });
});

describe('/restore', () => {
  test('rows deleted after a backup are back after an approved restore; the old database is kept; undo swaps it back', { timeout: TIMEOUT }, async () => {
    const id = await backup();
    const full = await accounts();
    await q(liveUrl, 'delete from pgbench_accounts where aid % 10 = 0');
    const afterDelete = await accounts();
    assert.equal(afterDelete, full - full / 10);
    const backendStarted = await stack.engine.startedAt(stack.name('backend'));

    const r = await requestRestore(id);
    const plan = messageText(r.card);
    assert.match(plan, new RegExp(`restore backup ${id}`));
    assert.match(plan, /Expected downtime: the swap window only/);
    assert.match(plan, new RegExp(`rename ${database} to ${database}_before_\\d{8}t\\d{6}`));
    // The requester cannot approve; one manager is not enough.
    await approve(OPER, r);
    assert.match(String((await t.fake.waitFor((c) => c.method === 'response_url' && c.target === `${r.id}-${OPER}`)).args.text), /cannot approve your own request/);
    await approve(M1, r);
    await t.fake.waitFor((c) => c.method === 'response_url' && c.target === `${r.id}-${M1}`);
    await sleep(500);
    assert.equal(await accounts(), afterDelete, 'nothing ran on one approval');

    // While the side restore runs, the live database keeps answering: every query made while the
    // side database existed and before the writers were stopped for the swap succeeds.
    const samples: Array<{ side: boolean; end: number; error?: string }> = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const side = (await dbNames()).some((n) => n.includes('_restore_'));
        try {
          await q(liveUrl, 'select count(*) from pgbench_accounts');
          samples.push({ side, end: Date.now() });
        } catch (err) {
          samples.push({ side, end: Date.now(), error: (err as Error).message });
        }
        await sleep(10);
      }
    })();
    await approve(M2, r);
    const done = await waitForMessage(t.fake, r.ts, /✅ Done|Failed|failed/, scaled(120_000));
    running = false;
    await loop;
    const stoppedAt = Date.parse(await stack.engine.docker('inspect', '-f', '{{.State.FinishedAt}}', stack.name('worker')));
    const during = samples.filter((x) => x.side && x.end < stoppedAt);
    assert.ok(during.length > 0, `queries ran during the side restore (${samples.length} in all)`);
    assert.deepEqual(during.filter((x) => x.error).map((x) => x.error), []);
    assert.match(done, new RegExp(`Backup ${id} is live in ${database}`));
    assert.match(done, /writers stopped for/);
    assert.equal(await accounts(), full, 'the deleted rows are back');
    const names = await dbNames();
    const beforeDb = names.find((n) => n.startsWith(`${database}_before_`));
    assert.ok(beforeDb, names.join(','));
    assert.equal(await accountRows(otherDatabase(liveUrl, beforeDb)), afterDelete, 'the old data is kept');
    assert.ok(!names.some((n) => n.includes('_restore_')), 'no side database is left');
    // The writers were stopped for the swap and are running again.
    assert.notEqual(await stack.engine.startedAt(stack.name('backend')), backendStarted);
    assert.equal(await stack.engine.docker('inspect', '-f', '{{.State.Running}}', stack.name('worker')), 'true');

    // Undo, under the same approval rule.
    const u = await (async () => {
      const before = t.fake.calls.length;
      await t.run('/restore', `undo ${r.id}`, { user: OPER });
      const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
      return { card, id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
    })();
    assert.match(messageText(u.card), /2 distinct, role manager/);
    await approve(M1, u);
    await approve(M2, u);
    const undone = await waitForMessage(t.fake, u.ts, /✅ Done|Failed|failed/, scaled(120_000));
    assert.match(undone, new RegExp(`${database} is the database from before restore ${r.id} again`));
    assert.equal(await accounts(), afterDelete, 'undo brought back the database as it was before the restore');
  });

  test('a backup corrupted by one byte is refused before anything changes', { timeout: TIMEOUT }, async () => {
    const id = await backup();
    const dir = join(backupDir, id);
    const dataFile = readdirSync(dir).filter((f) => /\.dat/.test(f) && f !== 'toc.dat').map((f) => join(dir, f)).sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
    const bytes = readFileSync(dataFile);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(dataFile, bytes);
    const count = await accounts();
    const namesBefore = await dbNames();
    const backendStarted = await stack.engine.startedAt(stack.name('backend'));
    const r = await requestRestore(id);
    await approve(M1, r);
    await approve(M2, r);
    const text = await waitForMessage(t.fake, r.ts, /Failed|failed|✅ Done/, scaled(60_000));
    assert.match(text, /Refused before anything changed: backup \S+ does not match its manifest/);
    assert.match(text, /does not match its sha256/);
    assert.equal(await accounts(), count);
    assert.deepEqual(await dbNames(), namesBefore);
    assert.equal(await stack.engine.startedAt(stack.name('backend')), backendStarted, 'the writers were never stopped');
  });
});

describe('retention and languages', () => {
  /** A backup row (and its directory) as if made at `at`; verified when `verified`. */
  async function fakeBackup(at: string, verified = false): Promise<string> {
    const id = `main-${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    const dir = join(backupDir, id);
    mkdirSync(dir);
    writeFileSync(join(dir, 'toc.dat'), 'x');
    await q(t.stateDbUrl, `insert into backups (id, kind, target, mode, state, run_on, path, size_bytes, started_at, finished_at, verified_at, verify_ok)
      values ($1, 'postgres', 'main', 'full', 'ok', 'local', $2, 1, $3, $3, $4, $5)`, [id, dir, at, verified ? at : null, verified ? true : null]);
    return id;
  }
  const state = async (id: string) => (await q<{ state: string }>(t.stateDbUrl, 'select state from backups where id = $1', [id]))[0].state;

  test('prune: --dry-run lists what goes, an approval deletes it, the newest verified stays; a schedule named by the rule needs no votes', { timeout: TIMEOUT }, async () => {
    const verified = await fakeBackup('2024-03-01T02:00:00Z', true);
    const old = await fakeBackup('2024-02-01T02:00:00Z');
    const { reply } = await t.run('/backup', 'prune --dry-run', { user: OPER });
    const dry = messageText(reply);
    assert.match(dry, new RegExp(`${old} from`));
    assert.doesNotMatch(dry, new RegExp(verified));
    assert.ok(existsSync(join(backupDir, old)), 'a dry run deletes nothing');

    const before = t.fake.calls.length;
    await t.run('/backup', 'prune', { user: OPER });
    const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
    const r = { id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
    await approve(M1, r);
    const done = await waitForMessage(t.fake, r.ts, /✅ Done|Failed/, scaled(60_000));
    assert.match(done, new RegExp(`🗑 ${old} deleted`));
    assert.equal(existsSync(join(backupDir, old)), false);
    assert.equal(await state(old), 'deleted');
    assert.ok(existsSync(join(backupDir, verified)), 'the newest verified backup stays');
    assert.equal(await state(verified), 'ok');

    // The nightly schedule runs it without votes: the rule names it.
    const older = await fakeBackup('2023-12-01T02:00:00Z');
    const mark = t.fake.calls.length;
    await t.run('/schedule', 'run nightly-prune', { user: OPER });
    const sched = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= mark && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
    const text = await waitForMessage(t.fake, sched.result!.ts as string, /✅ Done|Failed/, scaled(60_000));
    assert.match(text, /rule backup\.prune \(run by schedule:nightly-prune, no votes needed\)/);
    assert.match(text, new RegExp(`🗑 ${older} deleted`));
    assert.equal(await state(older), 'deleted');
  });

  test('cards and lists in a zh-CN channel are in Chinese', { timeout: TIMEOUT }, async () => {
    const before = t.fake.calls.length;
    await t.run('/backup', '', { user: OPER, channel: 'C0ZH' });
    const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0ZH');
    const text = await waitForMessage(t.fake, card.result!.ts as string, /备份 \S+ 完成|失败/, scaled(120_000));
    assert.match(text, /在 local 上完整备份 main 到/);
    assert.match(text, /无需审批（不做任何改动）/);
    assert.match(text, /数据库 \S+，4 张表/);
    const { reply } = await t.run('/backup', 'list', { user: OPER, channel: 'C0ZH' });
    assert.match(messageText(reply), /共 \d+ 个备份；时间为 UTC/);
  });
});

