/**
 * /logs over real SSH, the local host and Docker: tails, literal --grep, --since, error counts,
 * long output as a file, and containers whose whole log is searched as a stream.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { until } from '../helpers/wait.ts';
import { DockerTarget } from '../../src/targets/docker.ts';

let ssh: SshHost;
let engine: DockerEngine;
let t: TestBot;
let logDir: string;
let localDir: string;
const project = `logs${process.pid}`;
const container = (service: string) => `${project}-${service}-1`;
const BIG_LINES = 200_000;
const LONG_LINE = 200_000;

// The worker prints 30 numbered tasks, an error on stderr, and a last line, then idles. Docker
// copies stdout and stderr separately, so the pauses fix the order across the two streams.
const WORKER = [
  'i=1; while [ $i -le 30 ]; do echo "INFO task $i done"; i=$((i+1)); done',
  'sleep 1; echo "ERROR task 31 failed: disk quota" >&2',
  'sleep 1; echo "worker idle"',
  'exec sleep 100000',
].join('\n');
// Three matching lines at the very start of a log of 200,000 lines (about 14 MB), then an end mark.
const BIG = `awk 'BEGIN { for (i = 1; i <= ${BIG_LINES}; i++) { if (i <= 3) print "NEEDLE " i " at the start"; else printf "filler line %07d with padding to make the log several megabytes long\\n", i }; print "END-OF-BIG" }'; exec sleep 100000`;
// One line of 200,000 digits with the pattern only at its very end, then an end mark.
const LONG = `awk 'BEGIN { s = "0123456789"; while (length(s) < ${LONG_LINE}) s = s s; print substr(s, 1, ${LONG_LINE}) "LONGNEEDLE"; print "END-OF-LONG" }'; exec sleep 100000`;

const stamp = (minutesAgo: number) => {
  const d = new Date(Date.now() - minutesAgo * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

before(async () => {
  [ssh, engine] = await Promise.all([startSshd(), sharedDocker()]);
  await Promise.all([
    engine.runComposeService({ project, service: 'worker', cmd: ['sh', '-c', WORKER] }),
    engine.runComposeService({ project, service: 'big', cmd: ['sh', '-c', BIG] }),
    engine.runComposeService({ project, service: 'long', cmd: ['sh', '-c', LONG] }),
  ]);
  logDir = join(ssh.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const app = Array.from({ length: 300 }, (_, i) => `${stamp(300 - i)} INFO request ${i} served in ${i % 17} ms`);
  writeFileSync(join(logDir, 'app.log'), `${app.join('\n')}\n`);
  writeFileSync(join(logDir, 'error.log'), [
    `${stamp(120)} ERROR db timeout after 30 s (pool 3)`,
    `${stamp(90)} WARNING slow request 1200 ms`,
    `${stamp(60)} ERROR db timeout after 30 s (pool 7)`,
    `${stamp(30)} ERROR KeyError: 'tenant_id'`,
    `${stamp(5)} ERROR db timeout after 31 s (pool 2)`,
    `${stamp(4)} INFO literal '; touch /tmp/pwned # seen`,
    `${stamp(3)} CRITICAL worker lost`,
  ].join('\n') + '\n');
  rmSync('/tmp/pwned', { force: true });
  localDir = mkdtempSync(join(tmpdir(), 'opsbot-local-log-'));
  writeFileSync(join(localDir, 'app.log'), Array.from({ length: 20 }, (_, i) => `${stamp(20 - i)} INFO local request ${i}`).join('\n') + '\n');
  // Every container has written all of its log before the tests read it.
  const target = new DockerTarget('wait', { socket: engine.socketPath }, 10_000);
  try {
    for (const [svc, mark] of [['worker', 'worker idle'], ['big', 'END-OF-BIG'], ['long', 'END-OF-LONG']]) {
      await until(`${svc} log written`, 60_000, () => target.logs(container(svc), { tail: 1 }), (text) => text.includes(mark), 200);
    }
  } finally {
    await target.close();
  }
  t = await startTestBot({
    targets: {
      local: true,
      docker: { local: { socket: engine.socketPath, project } },
      hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } },
    },
    services: {
      backend: { host: 'app1', logs: { app: join(logDir, 'app.log'), error: join(logDir, 'error.log') } },
      worker: { docker: 'local', container: container('worker') },
      big: { docker: 'local', container: container('big') },
      long: { docker: 'local', container: container('long') },
      onhost: { host: 'local', logs: { app: join(localDir, 'app.log') } },
    },
  });
});
after(async () => {
  await t?.close();
  await ssh?.stop();
  await engine?.stop();
  if (localDir) rmSync(localDir, { recursive: true, force: true });
});

test('tails the service log on its host', async () => {
  const { reply } = await t.run('/logs', 'backend app --lines 5');
  const text = messageText(reply);
  assert.match(text, /5 lines of \S+app\.log on app1/);
  assert.match(text, /request 299 served/);
  assert.doesNotMatch(text, /request 294 served/);
});

test('--grep is a literal string for grep, never shell code', async () => {
  for (const pattern of [`'; touch /tmp/pwned #`, '$(touch /tmp/pwned)', '`touch /tmp/pwned`', '" && touch /tmp/pwned && "']) {
    const { reply } = await t.run('/logs', `backend error --grep "${pattern.replace(/"/g, '\\"')}"`);
    assert.equal(existsSync('/tmp/pwned'), false, `pattern ${pattern} ran code`);
    const text = messageText(reply);
    if (pattern.startsWith("'; touch")) assert.match(text, /literal '; touch \/tmp\/pwned # seen/);
    else assert.match(text, /No lines containing/);
  }
  const { reply } = await t.run('/logs', 'backend error --grep "db timeout"');
  assert.match(messageText(reply), /3 lines of .*containing "db timeout"/);
});

test('--since keeps only recent lines, by their timestamps', async () => {
  const { reply } = await t.run('/logs', 'backend error --since 45m');
  const text = messageText(reply);
  assert.match(text, /4 lines of .* from the last 45 m/);
  assert.doesNotMatch(text, /pool 3|pool 7/);
  assert.match(text, /KeyError/);
});

test('errors: counts per level and the most repeated error first', async () => {
  const { reply } = await t.run('/logs', 'backend errors');
  const text = messageText(reply);
  assert.match(text, /5 ERROR or CRITICAL lines in the last 7 lines/);
  assert.match(text, /ERROR\*\n4/);
  assert.match(text, /CRITICAL\*\n1/);
  assert.match(text, /3×\s+\S+ \S+ ERROR db timeout after 31 s \(pool 2\)/);
});

test('long output is trimmed in the message and uploaded whole as a file', async () => {
  const before = t.fake.calls.length;
  const { reply } = await t.run('/logs', 'backend app --lines 300');
  assert.match(messageText(reply), /300 lines of .*the full output is attached/);
  const complete = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) > before && c.method === 'files.completeUploadExternal');
  assert.equal(complete.args.channel_id, 'C0OPS');
  const upload = t.fake.uploads().at(-1)!;
  const content = upload.bytes!.toString('utf8');
  assert.equal(content.split('\n').length, 300);
  assert.ok(t.fake.calls.some((c) => t.fake.calls.indexOf(c) > before && c.method === 'files.getUploadURLExternal'));
});

test('a Docker-only service shows the end of its container log, stdout and stderr together', async () => {
  const { reply } = await t.run('/logs', 'worker --lines 3');
  const text = messageText(reply);
  assert.match(text, new RegExp(`3 lines of container ${container('worker')}`));
  // The newest three lines, and nothing older.
  assert.match(text, /INFO task 30 done/);
  assert.match(text, /ERROR task 31 failed: disk quota/);
  assert.match(text, /worker idle/);
  assert.doesNotMatch(text, /task 29 done/);
  const all = messageText((await t.run('/logs', 'worker --lines 100')).reply);
  assert.match(all, /32 lines of container/);
});

test('--grep on a container searches its whole log, and counts what it read', async () => {
  const { reply } = await t.run('/logs', 'worker --grep "task 1"');
  const text = messageText(reply);
  // task 1, and tasks 10 to 19: matches from the start of the log, not only its end.
  assert.match(text, /11 lines of container \S+ containing "task 1"; 32 lines searched/);
  assert.match(text, /INFO task 1 done/);
  assert.doesNotMatch(text, /task 2 done|task 20 done/);
  const errors = messageText((await t.run('/logs', 'worker errors')).reply);
  assert.match(errors, /1 ERROR or CRITICAL line in the last 32 lines of container/);
});

test('a container log of 200,000 lines is searched whole: matches at its very start are found', async () => {
  const { reply } = await t.run('/logs', 'big --grep NEEDLE');
  const text = messageText(reply);
  assert.match(text, /3 lines of container \S+ containing "NEEDLE"; 200,001 lines searched/);
  for (const n of [1, 2, 3]) assert.match(text, new RegExp(`NEEDLE ${n} at the start`));
  assert.doesNotMatch(text, /left out|cut/);
  // More matches than asked for: the newest are kept, and the cut is said.
  const many = messageText((await t.run('/logs', 'big --grep "filler line 000000" --lines 5')).reply);
  assert.match(many, /5 lines of container \S+ containing "filler line 000000"; 200,001 lines searched \(1 older line that matched left out/);
  assert.match(many, /filler line 0000009 /);
  assert.doesNotMatch(many, /filler line 0000004 /);
});

test('a single 200 KB line is matched to its end, shown cut, and the cut is said', async () => {
  const { reply } = await t.run('/logs', 'long --grep LONGNEEDLE');
  const text = messageText(reply);
  assert.match(text, /1 line of container \S+ containing "LONGNEEDLE"; 2 lines searched \(1 long line cut\)/);
  // 8 KiB of the line is more than a message holds: it goes out as a file, cut and marked.
  const upload = await until('the upload', 10_000, async () => t.fake.uploads().at(-1)?.bytes?.toString('utf8') ?? '', (c) => c.includes('line cut'));
  assert.match(upload, /^(0123456789){819}01 … \[line cut: 200010 bytes, the first 8192 shown\]$/);
  assert.doesNotMatch(text, /END-OF-LONG/);
  assert.ok(text.length < 20_000, `the reply stays small: ${text.length} characters`);
});

test('a service on host local reads its file on this machine', async () => {
  const { reply } = await t.run('/logs', 'onhost --lines 2');
  const text = messageText(reply);
  assert.match(text, new RegExp(`2 lines of ${join(localDir, 'app.log').replace(/[.]/g, '\\.')} on local`));
  assert.match(text, /local request 19/);
  assert.match(text, /local request 18/);
  assert.doesNotMatch(text, /local request 17/);
  assert.match(messageText((await t.run('/logs', 'onhost --grep "request 1"')).reply), /11 lines of .* containing "request 1"/);
});

test('a missing log file is a clear error', async () => {
  rmSync(join(logDir, 'app.log'));
  const { reply } = await t.run('/logs', 'backend app');
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(messageText(reply), /Cannot read \S+app\.log on app1/);
});
