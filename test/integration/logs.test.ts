/** /logs over real SSH and Docker: tails, literal --grep, --since, error counts, long output as a file. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { startStack, type Stack } from '../helpers/compose.ts';

let ssh: SshHost;
let stack: Stack;
let t: TestBot;
let logDir: string;

const stamp = (minutesAgo: number) => {
  const d = new Date(Date.now() - minutesAgo * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

before(async () => {
  ssh = await startSshd();
  stack = await startStack();
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
  t = await startTestBot({
    targets: {
      local: false,
      docker: { local: { socket: stack.engine.socketPath, project: stack.project } },
      hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } },
    },
    services: {
      backend: { host: 'app1', logs: { app: join(logDir, 'app.log'), error: join(logDir, 'error.log') } },
      worker: { docker: 'local', container: stack.name('worker') },
    },
  });
});
after(async () => {
  await t?.close();
  await ssh?.stop();
  await stack?.engine.stop();
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

test('a Docker-only service shows its container logs', async () => {
  const { reply } = await t.run('/logs', 'worker');
  assert.match(messageText(reply), new RegExp(`container ${stack.name('worker')}`));
});

test('a missing log file is a clear error', async () => {
  rmSync(join(logDir, 'app.log'));
  const { reply } = await t.run('/logs', 'backend app');
  assert.equal(reply.args.response_type, 'ephemeral');
  assert.match(messageText(reply), /Cannot read \S+app\.log on app1/);
});
