/**
 * Off-host copies (backups.postgres.<t>.copy_to) to a real sshd standing for `backup1`: /backup
 * copies the dump there and the card says so; the files are the same byte for byte; /backup list
 * names the copy and /backup prune deletes it. A wrong pinned fingerprint copies nothing. Driven
 * directly: a 750 MB backup copies with the bot's memory flat, and Stop kills the transfer and
 * leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';
import { copyBackup } from '../../src/backup/copy.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { ExecContext } from '../../src/core/define-command.ts';
import { createLogger } from '../../src/core/log.ts';
import { translator } from '../../src/i18n/index.ts';
import { createTargets } from '../../src/targets/index.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const TIMEOUT = scaled(240_000);
const DONE = /Backup (\S+) complete|Failed|failed/;

let h: SshHost;
let t: TestBot;
let liveUrl: string;
let backupDir: string;
let copyDir: string;
let badCopyDir: string;
/** A real-looking fingerprint of no key backup1 has. */
const WRONG_KEY = `SHA256:${createHash('sha256').update('not the key of backup1').digest('base64').replace(/=+$/, '')}`;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under dir, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out.push(`${rel}${name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

async function q(url: string, sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

function backup1(hostKey: string) {
  return { address: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey };
}

before(async () => {
  h = await startSshd();
  const server = await sharedPostgres();
  liveUrl = await server.createDatabase();
  await pgbenchInit(liveUrl, 1);
  backupDir = mkdtempSync(join(tmpdir(), 'opsbot-copy-src-'));
  copyDir = join(h.home, 'copies', 'pg');
  badCopyDir = join(h.home, 'copies', 'bad');
  t = await startTestBot({
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], manager: [MGR] },
    permissions: { backup: ['operator'] },
    approvals: { rules: { 'backup.prune': { approvers: ['manager'], count: 1 } } },
    targets: {
      local: true,
      postgres: { main: { url: liveUrl }, other: { url: liveUrl } },
      // The same machine twice: once pinned right, once with a fingerprint of some other key.
      hosts: { backup1: backup1(h.hostKeyFingerprint), impostor: backup1(WRONG_KEY) },
    },
    backups: {
      postgres: {
        main: { run_on: 'local', dir: join(backupDir, 'main'), keep: { daily: 1, weekly: 0, monthly: 0 }, copy_to: { host: 'backup1', dir: copyDir } },
        other: { run_on: 'local', dir: join(backupDir, 'other'), copy_to: { host: 'impostor', dir: badCopyDir } },
      },
    },
  });
});
after(async () => {
  await t?.close();
  await h?.remove();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

/** Runs /backup and returns its card's text once it shows a final state, and the backup's id. */
async function backup(text: string): Promise<{ id: string; text: string }> {
  const before = t.fake.calls.length;
  const { ack } = await t.run('/backup', text, { user: OPER });
  assert.equal(ack.status, 200);
  const card: FakeSlackCall = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS');
  const done = await waitForMessage(t.fake, card.result!.ts as string, DONE, scaled(120_000));
  const m = /Backup (\S+) complete/.exec(done);
  assert.ok(m, done);
  return { id: m[1], text: done };
}

describe('/backup with copy_to', () => {
  test('the card says the copy was made; backup1 holds the same files; /backup list names it; prune deletes it', { timeout: TIMEOUT }, async () => {
    const { id, text } = await backup('main');
    const path = join(copyDir, id);
    assert.match(text, new RegExp(`copy: backup1:${path}, checksums match`));
    const local = join(backupDir, 'main', id);
    // Only the finished copy: no .part, the directory private to its owner.
    assert.deepEqual(readdirSync(copyDir), [id]);
    assert.equal(statSync(copyDir).mode & 0o777, 0o700);
    assert.equal(statSync(path).uid, h.uid);
    const files = filesUnder(local);
    assert.ok(files.includes('toc.dat') && files.includes('manifest.json'), files.join(' '));
    assert.deepEqual(filesUnder(path), files);
    for (const f of files) assert.equal(sha256(join(path, f)), sha256(join(local, f)), f);
    const manifest = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8'));
    for (const f of manifest.files) assert.equal(sha256(join(path, f.name)), f.sha256, f.name);

    const { reply } = await t.run('/backup', 'list main', { user: OPER });
    assert.match(messageText(reply), new RegExp(`${id}.*local.*backup1:${path}`));

    // A second backup; the first is made a year old, so the keep rules (daily: 1) let it go.
    const second = await backup('main');
    await q(t.stateDbUrl, `update backups set started_at = now() - interval '400 days' where id = $1`, [id]);
    const before = t.fake.calls.length;
    await t.run('/backup', 'prune', { user: OPER });
    const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
    assert.match(messageText(card), /1 off-host copies/);
    const r = { id: findButton(card, 'approval.approve')!.value, ts: card.result!.ts as string };
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts: r.ts, actionId: 'approval.approve', value: r.id });
    const done = await waitForMessage(t.fake, r.ts, /✅ Done|Failed/, scaled(60_000));
    assert.match(done, new RegExp(`🗑 ${id} deleted`));
    assert.doesNotMatch(done, /could not be deleted/);
    assert.deepEqual(readdirSync(copyDir), [second.id], 'the old copy is gone, the new one stays');
    assert.equal(existsSync(local), false);
  });

  test('a wrong pinned fingerprint: the backup completes, the copy fails with the host-key message, nothing is written', { timeout: TIMEOUT }, async () => {
    const { id, text } = await backup('other');
    assert.match(text, /the copy to impostor failed: the host key of impostor .* does not match the pinned one/);
    assert.match(text, /the backup itself is complete/);
    assert.ok(existsSync(join(backupDir, 'other', id, 'manifest.json')));
    assert.equal(existsSync(badCopyDir), false, 'nothing was made on the host');
    const { reply } = await t.run('/backup', 'list other', { user: OPER });
    assert.doesNotMatch(messageText(reply), /impostor/);
  });
});

describe('copyBackup', () => {
  let src: string;
  let targets: ReturnType<typeof createTargets>;
  const id = 'big-20250101T000000Z';

  before(() => {
    // A 750 MB "backup" made by child processes, so the test's own memory stays out of it.
    src = mkdtempSync(join(tmpdir(), 'opsbot-bigcopy-'));
    const dir = join(src, id);
    mkdirSync(dir, { mode: 0o700 });
    execFileSync('sh', ['-c', 'head -c 750M /dev/urandom > "$1"', 'mk', join(dir, '1.dat')]);
    writeFileSync(join(dir, 'toc.dat'), 'toc');
    const sums = execFileSync('sha256sum', ['1.dat', 'toc.dat'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/\s+/));
    const files = sums.map(([sha, name]) => ({ name, sha256: sha, bytes: statSync(join(dir, name)).size }));
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ version: 1, id, files, size_bytes: files.reduce((n, f) => n + f.bytes, 0) })}\n`);
  });
  after(async () => {
    await targets?.close();
    if (src) rmSync(src, { recursive: true, force: true });
  });

  function context(signal: AbortSignal): ExecContext {
    const config = parseConfig({
      targets: { local: true, postgres: { big: { url: 'postgres://u@127.0.0.1/db' } }, hosts: { backup1: backup1(h.hostKeyFingerprint) } },
      backups: { postgres: { big: { dir: src, copy_to: { host: 'backup1', dir: join(h.home, 'big') } } } },
    }, 'test');
    targets ??= createTargets(config);
    return {
      requestId: 'r1', requester: OPER, t: translator('en'), config, targets, log: createLogger('silent'),
      progress: async () => {}, status: () => {}, signal, stopped: () => (signal.aborted ? OPER : undefined),
    };
  }

  test('750 MB copy: the bytes never pass through the bot, whose memory stays flat', { timeout: TIMEOUT }, async () => {
    const dest = join(h.home, 'big');
    const ctx = context(new AbortController().signal);
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const res = await copyBackup(ctx, { runOn: 'local', dir: join(src, id), id, copyTo: { host: 'backup1', dir: dest } });
    clearInterval(sampler);
    assert.equal(res.ok, true, res.error);
    assert.equal(res.path, join(dest, id));
    assert.ok(peak - base < 64 << 20, `RSS grew by ${Math.round((peak - base) / 2 ** 20)} MB`);
    assert.equal(statSync(join(dest, id, '1.dat')).size, 750 << 20);
    assert.deepEqual(readdirSync(dest), [id]);
    rmSync(join(dest, id), { recursive: true, force: true });
  });

  test('Stop kills the transfer (local and remote) and removes the partial copy', { timeout: TIMEOUT }, async () => {
    const dest = join(h.home, 'stopped');
    const stop = new AbortController();
    const ctx = context(stop.signal);
    const part = join(dest, `${id}.part`, '1.dat');
    const running = copyBackup(ctx, { runOn: 'local', dir: join(src, id), id, copyTo: { host: 'backup1', dir: dest } });
    // Stopped once data is arriving.
    while (!(existsSync(part) && statSync(part).size > 0)) await sleep(5);
    stop.abort();
    const res = await running;
    assert.equal(res.ok, false);
    assert.match(res.error ?? '', /stopped; the partial copy was removed/);
    assert.deepEqual(readdirSync(dest), [], 'no partial copy is left');
    const ours = () => execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n').filter((l) => /opsbot-copy|opsbot-receive/.test(l) && !/ps -eo/.test(l));
    await until('copy processes', scaled(10_000), async () => ours(), (l) => l.length === 0);
    await until('remote tar', scaled(10_000), async () => h.processes().filter((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('tar'); } catch { return false; } }), (l) => l.length === 0);
  });
  test('a copy whose checksums do not match the manifest is refused and removed', { timeout: TIMEOUT }, async () => {
    const bad = 'bad-20250101T000000Z';
    const dir = join(src, bad);
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'toc.dat'), 'toc');
    const files = [{ name: 'toc.dat', bytes: 3, sha256: createHash('sha256').update('not toc').digest('hex') }];
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ version: 1, id: bad, files, size_bytes: 3 })}\n`);
    const dest = join(h.home, 'mismatch');
    const res = await copyBackup(context(new AbortController().signal), { runOn: 'local', dir, id: bad, copyTo: { host: 'backup1', dir: dest } });
    assert.equal(res.ok, false);
    assert.match(res.error ?? '', /1 file of the copy does not match the manifest \(toc\.dat\); the partial copy was removed/);
    assert.deepEqual(readdirSync(dest), []);
  });

  test('from a backup made elsewhere than the bot\'s machine: a clear refusal, nothing run', async () => {
    const res = await copyBackup(context(new AbortController().signal), { runOn: 'host:db1', dir: '/backup/x', id, copyTo: { host: 'backup1', dir: join(h.home, 'never') } });
    assert.equal(res.ok, false);
    assert.match(res.error ?? '', /not yet from run_on host:db1/);
    assert.equal(existsSync(join(h.home, 'never')), false);
  });
});
