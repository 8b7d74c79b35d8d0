/**
 * /logs rotation and /logs cleanup (manual §1.2) over a real sshd, with files of real sizes and
 * mtimes set by touch -d: rotation is judged from what is on disk, and cleanup deletes only rotated
 * files older than the limit, re-checked, reporting the bytes freed exactly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { scaled } from '../helpers/wait.ts';

let ssh: SshHost;
let t: TestBot;
let ok: string;
let bad: string;
const MB = 1024 * 1024;
const OPER = 'U0OPER';
const MGR = 'U0MGR';

const file = (path: string, bytes: number, daysAgo?: number) => {
  writeFileSync(path, Buffer.alloc(bytes, 0x61));
  if (daysAgo !== undefined) execFileSync('touch', ['-d', `${daysAgo} days ago`, path]);
};

before(async () => {
  ssh = await startSshd();
  ok = join(ssh.dir, 'ok');
  bad = join(ssh.dir, 'bad');
  mkdirSync(ok, { recursive: true });
  mkdirSync(bad, { recursive: true });
  // As the manual asks: under 10 MB, five rotated files, all gzipped.
  file(join(ok, 'app.log'), 2 * MB + 123);
  for (let i = 1; i <= 5; i++) file(join(ok, `app.log.${i}.gz`), 100_000 + i, i);
  // Not rotated at size (12 MB), seven rotated files, two not compressed, old and new.
  file(join(bad, 'app.log'), 12 * MB, 40);
  file(join(bad, 'app.log.1'), 3 * MB + 7, 2);
  file(join(bad, 'app.log.2'), 1_000_001, 35);
  file(join(bad, 'app.log.3.gz'), 200_003, 45);
  file(join(bad, 'app.log.4.gz'), 200_004, 50);
  file(join(bad, 'app.log-20240101.gz'), 55_555, 60);
  file(join(bad, 'app.log.5.gz'), 200_005, 10);
  file(join(bad, 'app.log.6.gz'), 200_006, 29);
  // Not rotated copies, whatever their age: never candidates.
  file(join(bad, 'app.log.bak'), 4096, 90);
  file(join(bad, 'other.log.1'), 4096, 90);
  // The logs belong to the login user, as an app's logs belong to the app's user.
  execFileSync('chown', ['-R', ssh.user, ok, bad]);
  t = await startTestBot({
    targets: { local: false, hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } } },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { operator: [OPER], approver: [MGR] },
    permissions: { 'logs.cleanup': ['operator'] },
    approvals: { rules: { 'logs.cleanup': { approvers: ['approver'], count: 1 } } },
    services: {
      backend: { host: 'app1', logs: { app: join(ok, 'app.log') } },
      worker: { host: 'app1', logs: { app: join(bad, 'app.log') } },
    },
    log_rotation: { logrotate: [join(ssh.dir, 'logrotate.d')] },
  });
});
after(async () => {
  await t?.close();
  await ssh?.stop();
});

test('/logs rotation reports real sizes and flags what the manual does not allow', async () => {
  const text = messageText((await t.run('/logs', 'rotation')).reply);
  assert.match(text, /✅ backend on app1/);
  assert.match(text, /app\.log: 2 MB, under 10 MB/);
  assert.match(text, /5 rotated files kept \(5 allowed\)/);
  assert.match(text, /⚠️ worker on app1/);
  assert.match(text, /app\.log: 12 MB, over 10 MB: it is not rotated at size/);
  assert.match(text, /7 rotated files kept, more than 5/);
  assert.match(text, /2 rotated files not compressed: app\.log\.1 and app\.log\.2/);
  // The evidence: the files with their sizes.
  assert.match(text, /3 MB\s+\S+ \S+ \S+\s+\S+bad\/app\.log\.1\b/);
  assert.doesNotMatch(text, /app\.log\.bak|other\.log/);
});

test('a logrotate rule is read and compared', async () => {
  mkdirSync(join(ssh.dir, 'logrotate.d'), { recursive: true });
  writeFileSync(join(ssh.dir, 'logrotate.d', 'mitong'), `${join(ok, '*.log')} {\n  size 10M\n  rotate 5\n  compress\n  postrotate\n    rotate 99\n  endscript\n}\n${join(bad, 'app.log')} {\n  rotate 7\n  size 50M\n}\n`);
  const text = messageText((await t.run('/logs', 'rotation')).reply);
  assert.match(text, /✅ logrotate \S+mitong \(\S+ok\/\*\.log\): rotate 5, size 10 MB, compress/);
  assert.match(text, /⚠️ logrotate \S+mitong \(\S+bad\/app\.log\): rotate 7, the manual keeps 5; size 50 MB, the manual rotates at 10 MB; no compress/);
});

test('/logs cleanup deletes only rotated files older than the limit, and reports the bytes freed exactly', async () => {
  const before = t.fake.calls.length;
  await t.command('/logs', 'cleanup --older-than 30d', { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS', scaled(15_000));
  const plan = messageText(card);
  const expected = 1_000_001 + 200_003 + 200_004 + 55_555;
  assert.match(plan, /Delete 4 rotated log files older than 30 days?, freeing 1\.4 MB/);
  for (const name of ['app.log.2', 'app.log.3.gz', 'app.log.4.gz', 'app.log-20240101.gz']) assert.match(plan, new RegExp(`bad/${name.replace(/\./g, '\\.')} `));
  assert.doesNotMatch(plan, /app\.log \(|app\.log\.1 |app\.log\.5|app\.log\.6|\.bak|other\.log|ok\/app\.log\.[1-5]\.gz/);
  const id = /\((r-\w+)\)/.exec(plan)![1];
  await t.click({ user: MGR, channel: 'C0OPS', ts: card.result!.ts as string, actionId: 'approval.approve', value: id });
  const done = await waitForMessage(t.fake, card.result!.ts as string, /✅ Done|❌ Failed|precondition/, scaled(30_000));
  assert.match(done, new RegExp(`Deleted 4 rotated log files, freeing 1\\.4 MB \\(${expected.toLocaleString('en')} bytes\\)`));
  for (const name of ['app.log.2', 'app.log.3.gz', 'app.log.4.gz', 'app.log-20240101.gz']) assert.equal(existsSync(join(bad, name)), false, name);
  // The live log (older than the limit itself), newer rotated files and strangers stay.
  for (const name of ['app.log', 'app.log.1', 'app.log.5.gz', 'app.log.6.gz', 'app.log.bak', 'other.log.1']) assert.equal(existsSync(join(bad, name)), true, name);
  for (let i = 1; i <= 5; i++) assert.equal(existsSync(join(ok, `app.log.${i}.gz`)), true);
});

test('a file changed since the plan is not deleted: the run is refused', async () => {
  file(join(bad, 'app.log.7.gz'), 300_000, 70);
  execFileSync('chown', [ssh.user, join(bad, 'app.log.7.gz')]);
  const before = t.fake.calls.length;
  await t.command('/logs', 'cleanup worker', { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS', scaled(15_000));
  assert.match(messageText(card), /Delete 1 rotated log file older than 30 days?/);
  // Rotation rewrote it meanwhile.
  file(join(bad, 'app.log.7.gz'), 300_001, 70);
  const id = /\((r-\w+)\)/.exec(messageText(card))![1];
  await t.click({ user: MGR, channel: 'C0OPS', ts: card.result!.ts as string, actionId: 'approval.approve', value: id });
  const done = await waitForMessage(t.fake, card.result!.ts as string, /changed since the plan/, scaled(30_000));
  assert.doesNotMatch(done, /✅ Done/);
  assert.equal(existsSync(join(bad, 'app.log.7.gz')), true);
});

test('zh-CN: /logs rotation in the manual\'s language', async () => {
  const text = messageText((await t.run('/logs', 'rotation', { channel: 'C0ZH' })).reply);
  assert.match(text, /未按大小轮转/);
  assert.match(text, /个轮转文件未压缩/);
});
