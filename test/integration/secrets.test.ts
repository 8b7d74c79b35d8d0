/**
 * /secrets rotate and /secrets list (manual §5.2) against real servers: the secret file on a real
 * SSH host, read by real containers whose healthcheck looks at its content (they mount its
 * directory, as compose would). A rotation after two approvals replaces the file atomically
 * (mode and owner kept), keeps the old value gpg-encrypted, restarts the readers in order, and the
 * value appears nowhere in Slack, the bot's logs or its database. A value a reader rejects is
 * undone: the old file is back and the readers restarted again. zh-CN on the bot's own machine.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../src/core/log.ts';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { TOKEN, findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { scaled, scaledDuration } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const MGR1 = 'U0MGR1';
const MGR2 = 'U0MGR2';
const TIMEOUT = scaled(240_000);
const HEX64 = /^[0-9a-f]{64}$/;

let h: SshHost;
let engine: DockerEngine;
let t: TestBot;
let zh: TestBot;
/** The zh-CN bot's Slack, where the operator's own locale is zh-CN (ephemeral replies follow it). */
let zhSlack: FakeSlack;
const logLines: string[] = [];
const containers: string[] = [];
let project: string;
/** On the SSH host: the keys directory the containers mount, the secret in it, and where old values go. */
let keysDir: string;
let keyFile: string;
let keepDir: string;
let passFile: string;
let localDir: string;
/** Every value the secret file has held, to look for everywhere the bot writes. */
const values = new Set<string>();

const name = (service: string) => `${project}-${service}-1`;

/**
 * A compose-labelled container that mounts the keys directory; its healthcheck passes only while
 * the secret's content matches `rule` (a grep -E pattern for the whole file).
 */
async function reader(service: string, rule: string): Promise<void> {
  const n = name(service);
  containers.push(n);
  await engine.docker('run', '-d', '--name', n, '--network', 'none',
    '--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`,
    '-v', `${keysDir}:/run/keys:ro`,
    '--health-cmd', `grep -qxE '${rule}' /run/keys/app_key`, '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '5s',
    engine.image, 'sleep', '100000');
}

const startedAt = async (service: string) => new Date(await engine.startedAt(name(service)));
const health = (service: string) => engine.docker('inspect', '--format', '{{.State.Health.Status}}', name(service));

/** gpg -d with its own home (and agent), removed afterwards. */
function decrypt(file: string, pass: string): string {
  const home = mkdtempSync(join(tmpdir(), 'opsbot-gpg-'));
  chmodSync(home, 0o700);
  try {
    return execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-file', pass, '--decrypt', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } finally {
    try { execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' }); } catch { /* no agent started */ }
    rmSync(home, { recursive: true, force: true });
  }
}

/** Every text row of every table of the bot's state database. */
async function stateDump(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)).rows;
    const parts: string[] = [];
    for (const { t: table } of tables) {
      const rows = await c.query<{ r: string }>(`select x::text as r from ${c.escapeIdentifier(table)} x`);
      parts.push(...rows.rows.map((r) => `${table}: ${r.r}`));
    }
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

/** Asserts that no value the secret has held appears in any Slack call, log line or state row. */
async function assertNoValueLeaked(bot: TestBot): Promise<void> {
  const slack = bot.fake.calls.map((c) => JSON.stringify(c)).join('\n');
  const logs = logLines.join('\n');
  const state = await stateDump(bot.stateDbUrl);
  assert.ok(state.includes('secrets rotate'), 'the dump holds the rotation requests (the scan looked in the right place)');
  for (const v of values) {
    assert.ok(!slack.includes(v), 'a secret value was sent to Slack');
    assert.ok(!logs.includes(v), 'a secret value was logged');
    assert.ok(!state.includes(v), 'a secret value is in the bot\'s database');
  }
}

before(async () => {
  h = await startSshd();
  engine = await sharedDocker();
  project = `sec${randomBytes(3).toString('hex')}`;
  keysDir = join(h.home, 'app', 'keys');
  keepDir = join(h.home, 'backup', 'secrets');
  mkdirSync(keysDir, { recursive: true });
  mkdirSync(keepDir, { recursive: true });
  mkdirSync(join(h.home, 'secret'));
  passFile = join(h.home, 'secret', 'passphrase');
  writeFileSync(passFile, `${randomBytes(24).toString('base64')}\n`, { mode: 0o600 });
  keyFile = join(keysDir, 'app_key');
  const first = randomBytes(32).toString('hex');
  values.add(first);
  writeFileSync(keyFile, first);
  chmodSync(keyFile, 0o640);
  // An old one, for /secrets list's max_age flag.
  writeFileSync(join(keysDir, 'legacy_token'), randomBytes(16).toString('hex'));
  const longAgo = new Date(Date.now() - 200 * 86_400_000);
  utimesSync(join(keysDir, 'legacy_token'), longAgo, longAgo);
  execFileSync('chown', ['-R', `${h.user}:${h.user}`, join(h.home, 'app'), join(h.home, 'backup'), join(h.home, 'secret')]);
  chmodSync(keysDir, 0o755);

  // The backend accepts any value; the worker only a 64-digit hex key, so a bad value fails on the second reader.
  await Promise.all([reader('backend', '.+'), reader('worker', '[0-9a-f]{64}')]);

  const svc = (service: string) => ({ docker: 'local', container: name(service), stop_timeout: '1s', ready_timeout: scaledDuration(12_000) });
  const logger = createLogger('debug', { write: (s: string) => void logLines.push(s) });
  t = await startTestBot({
    roles: { operator: [OPER], approver: [MGR1, MGR2] },
    permissions: { secrets: ['operator'] },
    targets: {
      local: false,
      docker: { local: { socket: engine.socketPath, project } },
      hosts: {
        app1: { address: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey: h.hostKeyFingerprint },
        // Nothing listens on port 1: a host that cannot be reached.
        down1: { address: '127.0.0.1', port: 1, user: h.user, privateKey: h.privateKey, hostKey: h.hostKeyFingerprint },
      },
    },
    services: { backend: svc('backend'), worker: svc('worker') },
    secrets: {
      app_key: { host: 'app1', file: keyFile, services: ['backend', 'worker'], passphrase_file: passFile, keep_dir: keepDir },
      // The same file, made by a command on the host whose (32-digit) value the worker rejects.
      app_key_short: {
        host: 'app1', file: keyFile, services: ['backend', 'worker'], passphrase_file: passFile, keep_dir: keepDir,
        generate: { command: ['sh', '-c', "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'"] },
      },
      legacy_token: { host: 'app1', file: join(keysDir, 'legacy_token'), passphrase_file: passFile, max_age: '90d' },
      remote_key: { host: 'down1', file: '/etc/remote/key', passphrase_file: '/etc/remote/pass' },
    },
  }, { logger });

  localDir = mkdtempSync(join(tmpdir(), 'opsbot-secrets-'));
  const localValue = randomBytes(32).toString('base64');
  values.add(localValue);
  writeFileSync(join(localDir, 'session_key'), localValue, { mode: 0o600 });
  writeFileSync(join(localDir, 'pass'), 'a local passphrase\n', { mode: 0o600 });
  zhSlack = await startFakeSlack({ token: TOKEN, users: { [OPER]: { locale: 'zh-CN' } } });
  zh = await startTestBot({
    locale: 'zh-CN',
    roles: { operator: [OPER], approver: [MGR1, MGR2] },
    permissions: { secrets: ['operator'] },
    targets: { local: true },
    secrets: {
      session_key: { host: 'local', file: join(localDir, 'session_key'), passphrase_file: join(localDir, 'pass'), generate: { random_bytes: 48, encoding: 'base64' } },
    },
  }, { logger, fake: zhSlack });
});

after(async () => {
  await t?.close();
  await zh?.close();
  await zhSlack?.stop();
  if (containers.length) await engine?.docker('rm', '-f', ...containers).catch(() => undefined);
  await engine?.stop();
  await h?.remove();
  if (localDir) rmSync(localDir, { recursive: true, force: true });
});

/** Sends /secrets rotate and returns its approval card as first posted. */
async function request(bot: TestBot, line: string): Promise<{ ts: string; id: string; text: string }> {
  const before = bot.fake.calls.length;
  const { ack } = await bot.run('/secrets', line, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await bot.fake.waitFor((c: FakeSlackCall) => bot.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && !!findButton(c, 'approval.approve'), scaled(30_000));
  return { ts: card.result!.ts as string, id: findButton(card, 'approval.approve')!.value, text: messageText(card) };
}

const approve = (bot: TestBot, ts: string, id: string, user: string) => bot.click({ user, channel: 'C0OPS', ts, actionId: 'approval.approve', value: id });

describe('/secrets rotate', () => {
  test('unknown names get the configured ones and a "did you mean"', async () => {
    const { reply } = await t.run('/secrets', 'rotate app_kye', { user: OPER });
    const text = messageText(reply);
    assert.match(text, /No secret "app_kye" is configured \(configured: app_key, app_key_short, legacy_token, and remote_key\)/);
    assert.match(text, /\/secrets rotate app_key/);
  });

  test('after two approvals: a new value atomically, mode and owner kept, the old one encrypted, the readers restarted in order', { timeout: TIMEOUT }, async () => {
    const old = readFileSync(keyFile, 'utf8');
    const before = statSync(keyFile);
    const startedBefore = { backend: await startedAt('backend'), worker: await startedAt('worker') };
    const { ts, id, text } = await request(t, 'rotate app_key');
    assert.match(text, new RegExp(`rotate secret app_key: ${keyFile} on app1, and restart the 2 services that read it`));
    assert.match(text, /make a new value: 32 random bytes, hex \(never shown\)/);
    assert.match(text, /keep the current value encrypted \(gpg, AES256/);
    assert.match(text, /with mode 0640 and owner \d+:\d+, then one rename/);
    assert.match(text, /\d\. restart backend .*healthy[\s\S]*\d\. restart worker .*healthy/);
    assert.match(text, /on any failure: put the old file back/);
    assert.match(text, /2 distinct, role approver or admin/);

    await approve(t, ts, id, MGR1);
    await waitForMessage(t.fake, ts, /Waiting for approval: 1 of 2/, scaled(10_000));
    assert.equal(readFileSync(keyFile, 'utf8'), old, 'one approval is not enough');
    assert.deepEqual(await startedAt('backend'), startedBefore.backend);

    await approve(t, ts, id, MGR2);
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌/, scaled(120_000));
    assert.match(done, /✅ Done: Secret app_key rotated: new value in .* on app1, 2 services restarted and healthy\. The old value is kept encrypted in /);
    assert.match(done, /✅ backend \(.*\) restarted, healthy in [\d.]+ s[\s\S]*✅ worker \(.*\) restarted, healthy in [\d.]+ s/);

    const now = readFileSync(keyFile, 'utf8');
    values.add(now);
    assert.notEqual(now, old);
    assert.match(now, HEX64);
    const after = statSync(keyFile);
    assert.equal(after.mode & 0o7777, 0o640, 'mode kept');
    assert.equal(after.uid, before.uid, 'owner kept');
    assert.equal(after.gid, before.gid, 'group kept');
    assert.notEqual(after.ino, before.ino, 'replaced by a rename, not rewritten in place');
    assert.deepEqual(readdirSync(keysDir).filter((f) => f.startsWith('.')), [], 'no temp file or rollback link left');

    // The old value, encrypted, where the card says; it decrypts with the configured passphrase.
    const kept = readdirSync(keepDir).filter((f) => /^app_key\.\d{8}T\d{6}Z\.gpg$/.test(f));
    assert.equal(kept.length, 1, `one encrypted copy in ${keepDir}: ${readdirSync(keepDir)}`);
    assert.ok(done.includes(join(keepDir, kept[0])), 'the card names the encrypted copy');
    assert.equal((statSync(join(keepDir, kept[0])).mode & 0o077), 0, 'the copy is private to its owner');
    assert.ok(!readFileSync(join(keepDir, kept[0])).toString('latin1').includes(old), 'the copy is not plaintext');
    assert.equal(decrypt(join(keepDir, kept[0]), passFile), old);

    // Both readers restarted, backend first, and healthy with the new value.
    const s = { backend: await startedAt('backend'), worker: await startedAt('worker') };
    assert.ok(s.backend > startedBefore.backend && s.worker > startedBefore.worker, 'both restarted');
    assert.ok(s.backend < s.worker, 'one at a time, in the configured order');
    assert.equal(await health('worker'), 'healthy');

    await assertNoValueLeaked(t);
  });

  test('a value a reader rejects is undone: the old file back, the restarted readers restarted again', { timeout: TIMEOUT }, async () => {
    const old = readFileSync(keyFile, 'utf8');
    const ino = statSync(keyFile).ino;
    const { ts, id, text } = await request(t, 'rotate app_key_short');
    assert.match(text, /make a new value with `sh -c 'head -c 16 \/dev\/urandom/);
    await approve(t, ts, id, MGR1);
    await approve(t, ts, id, MGR2);
    const beforeRun = { backend: await startedAt('backend'), worker: await startedAt('worker') };
    const done = await waitForMessage(t.fake, ts, /✅ Done|❌ Failed/, scaled(150_000));
    assert.match(done, /❌ Failed: Rotation of app_key_short failed and was undone: worker was not healthy with the new value\. The old value is back in .*app_key, and backend and worker were restarted again and are healthy\./);
    assert.match(done, /✅ backend .* restarted, healthy/);
    assert.match(done, /❌ worker .* not ready after [\d.]+ s \(running, unhealthy\)/);
    assert.match(done, /↩️ old value back in/);
    assert.match(done, /✅ backend .* restarted again, healthy[\s\S]*✅ worker .* restarted again, healthy/);

    assert.equal(readFileSync(keyFile, 'utf8'), old, 'the old value is back');
    assert.equal(statSync(keyFile).ino, ino, 'the very file that was there, renamed back');
    assert.equal(statSync(keyFile).mode & 0o7777, 0o640);
    assert.deepEqual(readdirSync(keysDir).filter((f) => f.startsWith('.')), [], 'no temp file or rollback link left');
    // Restarted twice each (with the bad value, then with the old one): started after the run began.
    assert.ok(await startedAt('backend') > beforeRun.backend && await startedAt('worker') > beforeRun.worker);
    assert.equal(await health('worker'), 'healthy');
    assert.equal(await health('backend'), 'healthy');

    await assertNoValueLeaked(t);
  });
});

describe('/secrets list', () => {
  test('ages from the host, the max age flagged, the last rotation and who approved it, an unreachable host as one line', { timeout: TIMEOUT }, async () => {
    const { reply } = await t.run('/secrets', 'list', { user: OPER });
    const text = messageText(reply);
    assert.match(text, /4 secrets; 1 older than their max age, 1 not read\./);
    const line = (n: string) => text.split('\n').find((l) => l.includes(`*${n}*`)) ?? '';
    assert.match(line('app_key'), new RegExp(`✅ \\*app_key\\*: app1:${keyFile} · age \\d+ (sec|second)`));
    assert.match(line('app_key'), /last rotated .* by <@U0OPER>, approved by <@U0MGR1> and <@U0MGR2> · read by backend and worker/);
    assert.match(line('legacy_token'), /⚠️ \*legacy_token\*: .* · age 200 days?.*over the max of 90 days: rotate it/);
    assert.match(line('legacy_token'), /never rotated by opsbot · no services listed/);
    assert.match(line('remote_key'), /❌ \*remote_key\*: down1:\/etc\/remote\/key · down1 could not be reached: /);
    // The failed rotation is not the last rotation of app_key_short.
    assert.match(line('app_key_short'), /never rotated by opsbot/);
  });
});

describe('one rotation at a time, and none during a change freeze', () => {
  test('a second rotation of the same secret does not start while one runs', { timeout: TIMEOUT }, async () => {
    const copies = () => readdirSync(keepDir).filter((f) => f.startsWith('app_key.')).length;
    const before = copies();
    const a = await request(t, 'rotate app_key');
    const b = await request(t, 'rotate app_key');
    await approve(t, a.ts, a.id, MGR1);
    await approve(t, a.ts, a.id, MGR2);
    await waitForMessage(t.fake, a.ts, /restarting backend \(1\/2\)/, scaled(60_000));
    await approve(t, b.ts, b.id, MGR1);
    await approve(t, b.ts, b.id, MGR2);
    const refused = await waitForMessage(t.fake, b.ts, /✅ Done|❌/, scaled(60_000));
    assert.match(refused, new RegExp(`❌ Failed: Not started: ${a.id} \\(/secrets rotate app_key, by <@U0OPER>\\) is running on the same target`));
    assert.match(await waitForMessage(t.fake, a.ts, /✅ Done|❌/, scaled(120_000)), /✅ Done: Secret app_key rotated/);
    values.add(readFileSync(keyFile, 'utf8'));
    assert.equal(copies(), before + 1, 'rotated once');
    await assertNoValueLeaked(t);
  });

  test('a change freeze refuses it, and nothing is planned or changed', { timeout: TIMEOUT }, async () => {
    const old = readFileSync(keyFile, 'utf8');
    const { reply: declared } = await t.run('/incident', 'declare Keys leaked --sev sev1', { user: OPER, channel: 'C0OPS' });
    assert.match(messageText(declared), /Incident #\d+ declared/);
    const n = t.fake.calls.length;
    const { reply } = await t.run('/secrets', 'rotate app_key', { user: OPER, channel: 'C0OPS' });
    assert.match(messageText(reply), /Change freeze: incident #\d+ \(sev1, Keys leaked\) is open/);
    assert.equal(t.fake.calls.slice(n).filter((c) => c.method === 'chat.postMessage' && findButton(c, 'approval.approve')).length, 0, 'no approval card');
    assert.equal(readFileSync(keyFile, 'utf8'), old);
  });
});

describe('zh-CN', () => {
  test('list, an unknown name and a rotation on the bot\'s own machine, in Chinese', { timeout: TIMEOUT }, async () => {
    const file = join(localDir, 'session_key');
    const list = messageText((await zh.run('/secrets', 'list', { user: OPER })).reply);
    assert.match(list, /共 1 个密钥；0 个超过最长使用期限，0 个无法读取。/);
    assert.match(list, /session_key\*: local:.*session_key · 已使用 .* · 从未通过 opsbot 轮换 · 未列出读取它的服务/);

    const unknown = messageText((await zh.run('/secrets', 'rotate sesion_key', { user: OPER })).reply);
    assert.match(unknown, /未配置密钥“sesion_key”（已配置：session_key）。/);

    const old = readFileSync(file, 'utf8');
    const { ts, id, text } = await request(zh, 'rotate session_key');
    assert.match(text, /生成新密钥：48 字节随机数，base64 编码（不会显示）/);
    assert.match(text, /没有服务读取它/);
    await approve(zh, ts, id, MGR1);
    await approve(zh, ts, id, MGR2);
    const done = await waitForMessage(zh.fake, ts, /✅|❌/, scaled(60_000));
    assert.match(done, /密钥 session_key 已轮换：新密钥已写入 local 上的 .*session_key，0 个服务已重启且健康。旧密钥已加密备份在 /);
    const now = readFileSync(file, 'utf8');
    values.add(now);
    assert.notEqual(now, old);
    assert.equal(Buffer.from(now, 'base64').length, 48);
    assert.equal(statSync(file).mode & 0o7777, 0o600);
    const kept = readdirSync(localDir).filter((f) => /^session_key\.\d{8}T\d{6}Z\.gpg$/.test(f));
    assert.equal(kept.length, 1, 'kept beside the file without keep_dir');
    assert.equal(decrypt(join(localDir, kept[0]), join(localDir, 'pass')), old);
    await assertNoValueLeaked(zh);
  });
});
