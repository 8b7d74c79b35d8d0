/**
 * /backup files (manual §2.3) on a real SSH host and on the bot's own machine: config and uploads
 * in plain.tar.gz, keys only ever as encrypted.tar.gz.gpg (checked byte for byte on disk), sha256s
 * in the manifest, a clear error and no directory for a missing path, Stop removing what was made.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { scaled, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const TIMEOUT = scaled(180_000);
const DONE = /Files backup (\S+) complete|❌ Failed|文件备份 (\S+) 完成|❌/;

let h: SshHost;
let t: TestBot;
let zh: TestBot;
/** The app's tree on the SSH host: config/, uploads/, keys/, and where backups go. */
let app: string;
let backupDir: string;
let passFile: string;
let passphrase: string;
/** What the key file holds: found nowhere on disk but inside the ciphertext. */
let keyPlain: string;
/** The same tree on the bot's own machine, for the zh-CN bot (host local). */
let localApp: string;
let localBackupDir: string;

function makeTree(root: string, key: string): void {
  mkdirSync(join(root, 'config'), { recursive: true });
  mkdirSync(join(root, 'uploads', 'avatars'), { recursive: true });
  mkdirSync(join(root, 'keys'), { recursive: true });
  writeFileSync(join(root, 'config', 'app.yaml'), 'database:\n  pool_size: 10\n');
  writeFileSync(join(root, 'uploads', 'avatars', 'u1.png'), randomBytes(4096));
  writeFileSync(join(root, 'keys', 'jwt.key'), `${key}\n`);
  chmodSync(join(root, 'keys', 'jwt.key'), 0o600);
}

/** Every file under dir, relative, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** gpg -d with its own home (and agent), removed afterwards. */
function decrypt(file: string, pass: string): Buffer {
  const home = mkdtempSync(join(tmpdir(), 'opsbot-gpg-'));
  chmodSync(home, 0o700);
  try {
    return execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-file', pass, '--decrypt', file], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } finally {
    try { execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' }); } catch { /* no agent started */ }
    rmSync(home, { recursive: true, force: true });
  }
}

/** The members of a tar stream (ustar headers; the files here are small and plain). */
function tarMembers(tar: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const cut = (b: Buffer) => b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)).toString();
    const name = cut(header.subarray(0, 100));
    const prefix = cut(header.subarray(345, 500));
    const size = parseInt(cut(header.subarray(124, 136)).trim() || '0', 8);
    out.set(prefix ? `${prefix}/${name}` : name, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

before(async () => {
  h = await startSshd();
  keyPlain = randomBytes(32).toString('hex');
  passphrase = randomBytes(24).toString('base64');
  app = join(h.home, 'app');
  makeTree(app, keyPlain);
  backupDir = join(h.home, 'backup');
  mkdirSync(join(h.home, 'secret'));
  passFile = join(h.home, 'secret', 'passphrase');
  writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
  execFileSync('chown', ['-R', `${h.user}:${h.user}`, app, join(h.home, 'secret')]);
  execFileSync('install', ['-d', '-m', '700', '-o', h.user, '-g', h.user, backupDir]);

  const common = {
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER] },
    permissions: { backup: ['operator'] },
  };
  t = await startTestBot({
    ...common,
    targets: { local: true, hosts: { app1: { address: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey: h.hostKeyFingerprint } } },
    backups: {
      files: {
        app: {
          host: 'app1', dir: backupDir, encrypt: ['keys'], passphrase_file: passFile,
          paths: [join(app, 'config'), join(app, 'uploads'), join(app, 'keys')],
        },
        broken: { host: 'app1', dir: backupDir, paths: [join(app, 'config'), join(app, 'no-such-dir')] },
        big: { host: 'app1', dir: backupDir, paths: [join(app, 'big')] },
      },
    },
  });

  localApp = mkdtempSync(join(tmpdir(), 'opsbot-files-app-'));
  makeTree(localApp, randomBytes(32).toString('hex'));
  localBackupDir = mkdtempSync(join(tmpdir(), 'opsbot-files-backup-'));
  writeFileSync(join(localApp, 'passphrase'), `${passphrase}\n`, { mode: 0o600 });
  zh = await startTestBot({
    ...common,
    locale: 'zh-CN',
    targets: { local: true },
    backups: {
      files: {
        site: {
          host: 'local', dir: localBackupDir, encrypt: ['keys'], passphrase_file: join(localApp, 'passphrase'),
          paths: [join(localApp, 'config'), join(localApp, 'uploads'), join(localApp, 'keys'), join(localApp, 'gone')],
        },
      },
    },
  });
});
after(async () => {
  await t?.close();
  await zh?.close();
  await h?.remove();
  for (const d of [localApp, localBackupDir]) if (d) rmSync(d, { recursive: true, force: true });
});

/** Runs /backup files and returns its card once it shows a final state. */
async function job(bot: TestBot, text: string, done = DONE): Promise<{ card: FakeSlackCall; ts: string; text: string }> {
  const before = bot.fake.calls.length;
  const { ack } = await bot.run('/backup', text, { user: OPER });
  assert.equal(ack.status, 200);
  const card = await bot.fake.waitFor((c) => bot.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS');
  const ts = card.result!.ts as string;
  return { card, ts, text: await waitForMessage(bot.fake, ts, done, scaled(120_000)) };
}

describe('/backup files over SSH', () => {
  test('config and uploads in plain.tar.gz, keys only encrypted; sha256s in the manifest; nothing else on disk', { timeout: TIMEOUT }, async () => {
    const { text } = await job(t, 'files app');
    const m = /Files backup (\S+) complete/.exec(text);
    assert.ok(m, text);
    const id = m[1];
    assert.match(id, /^app-\d{8}T\d{6}Z-files$/);
    assert.match(text, /plain\.tar\.gz: .*config.*uploads/);
    assert.match(text, /🔒 encrypted\.tar\.gz\.gpg: .*keys.*AES256/);

    const dir = join(backupDir, id);
    // Exactly the two archives and the manifest: no .part, no plaintext tar of the keys.
    assert.deepEqual(filesUnder(backupDir), [`${id}/encrypted.tar.gz.gpg`, `${id}/manifest.json`, `${id}/plain.tar.gz`]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.id, id);
    assert.equal(manifest.kind, 'files');
    assert.equal(manifest.mode, 'files');
    assert.equal(manifest.format, 'tar');
    assert.equal(manifest.encrypted, true);
    assert.deepEqual(manifest.paths, [join(app, 'config'), join(app, 'uploads'), join(app, 'keys')]);
    assert.deepEqual(manifest.files.map((f: { name: string }) => f.name), ['encrypted.tar.gz.gpg', 'plain.tar.gz']);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.name));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, f.name);
      assert.equal(bytes.length, f.bytes, f.name);
    }
    assert.equal(manifest.size_bytes, manifest.files.reduce((n: number, f: { bytes: number }) => n + f.bytes, 0));

    // The key's plaintext is nowhere on disk: not in any file as stored, nor inside the plain archive.
    const needle = Buffer.from(keyPlain);
    for (const f of filesUnder(backupDir)) assert.equal(readFileSync(join(backupDir, f)).includes(needle), false, `${f} holds the key`);
    const plainTar = gunzipSync(readFileSync(join(dir, 'plain.tar.gz')));
    assert.equal(plainTar.includes(needle), false, 'plain.tar.gz holds the key');
    const plainMembers = tarMembers(plainTar);
    const rel = (p: string) => join(app, p).slice(1);
    assert.equal(plainMembers.get(rel('config/app.yaml'))?.toString(), 'database:\n  pool_size: 10\n');
    assert.deepEqual(plainMembers.get(rel('uploads/avatars/u1.png')), readFileSync(join(app, 'uploads', 'avatars', 'u1.png')));
    assert.equal([...plainMembers.keys()].some((n) => n.includes('keys')), false, 'no keys in the plain archive');

    // The encrypted archive opens with the passphrase and gives the key back.
    const keysTar = tarMembers(gunzipSync(decrypt(join(dir, 'encrypted.tar.gz.gpg'), passFile)));
    assert.equal(keysTar.get(rel('keys/jwt.key'))?.toString(), `${keyPlain}\n`);
    assert.deepEqual([...keysTar.keys()].filter((n) => !n.endsWith('/')).map((n) => n.slice(rel('').length + 1)), ['keys/jwt.key']);

    // The state store has it: /backup list shows it, complete.
    const [row] = await t.bot.store.query<{ state: string; kind: string; run_on: string }>('select state, kind, run_on from backups where id = $1', [id]);
    assert.deepEqual(row, { state: 'ok', kind: 'files', run_on: 'host:app1' });
    const { reply } = await t.run('/backup', 'list', { user: OPER });
    assert.match(messageText(reply), new RegExp(`${id}.*files`));
  });

  test('a missing path is a clear error on the card, and no backup directory is made', { timeout: TIMEOUT }, async () => {
    const before = readdirSync(backupDir);
    const { text } = await job(t, 'files broken');
    assert.match(text, new RegExp(`❌ Failed: This path does not exist on ${h.host}:${h.port}: ${join(app, 'no-such-dir')}\\. Nothing was archived\\.`));
    assert.deepEqual(readdirSync(backupDir), before);
    const rows = await t.bot.store.query<{ id: string }>("select id from backups where target = 'broken'");
    assert.deepEqual(rows, []);
  });

  test('without a name and with several sets, the names are listed', { timeout: TIMEOUT }, async () => {
    const { reply } = await t.run('/backup', 'files', { user: OPER });
    assert.match(messageText(reply), /Name a file backup: app, broken, or big\./);
    const typo = messageText((await t.run('/backup', 'files ap', { user: OPER })).reply);
    assert.match(typo, /No file backup "ap" is configured/);
    assert.match(typo, /Did you mean \/backup files app\?/);
  });

  test('Stop ends the archive on the host and removes the partial backup', { timeout: TIMEOUT }, async () => {
    // Big enough to take many seconds through tar | gzip: a sparse file, read as zeros.
    mkdirSync(join(app, 'big'));
    execFileSync('truncate', ['-s', '64G', join(app, 'big', 'zeros')]);
    execFileSync('chown', ['-R', `${h.user}:${h.user}`, join(app, 'big')]);
    const before = readdirSync(backupDir);
    const started = t.fake.calls.length;
    await t.run('/backup', 'files big', { user: OPER });
    const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= started && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS');
    const ts = card.result!.ts as string;
    await waitForMessage(t.fake, ts, /archiving .* into plain\.tar\.gz/, scaled(60_000));
    // The archive is being written on the host.
    await until('a partial archive', scaled(30_000), async () => readdirSync(backupDir).filter((d) => !before.includes(d)).flatMap((d) => readdirSync(join(backupDir, d))), (f) => f.includes('plain.tar.gz.part'));
    const latest = t.fake.messages().find((x) => x.ts === ts) as Record<string, unknown>;
    const stop = findButton({ method: 'chat.update', args: latest, at: 0, status: 200, result: {} } as FakeSlackCall, 'approval.stop');
    assert.ok(stop, 'a Stop button');
    await t.click({ user: OPER, channel: 'C0OPS', ts, actionId: 'approval.stop', value: stop.value });
    const text = await waitForMessage(t.fake, ts, /❌|Stopped|stopped/, scaled(60_000));
    assert.match(text, /Stopped; the partial backup big-\S+ was removed\./);
    await until('the partial backup removed', scaled(20_000), async () => readdirSync(backupDir).filter((d) => !before.includes(d)), (d) => d.length === 0);
    // Nothing of the pipeline keeps running on the host.
    await until('tar and gzip gone', scaled(20_000), async () => h.processes().filter((pid) => {
      try { return /^(tar|gzip)\0/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')); } catch { return false; }
    }), (p) => p.length === 0);
    const [row] = await t.bot.store.query<{ state: string; error: string }>("select state, error from backups where target = 'big'");
    assert.deepEqual(row, { state: 'failed', error: 'stopped' });
  });
});

describe('/backup files in zh-CN, on the bot\'s own machine', () => {
  test('a missing path reads in Chinese; once it is there, the backup completes', { timeout: TIMEOUT }, async () => {
    const failed = await job(zh, 'files');
    assert.match(failed.text, new RegExp(`上不存在以下路径：${join(localApp, 'gone')}。未做任何归档。`));
    assert.deepEqual(readdirSync(localBackupDir), []);

    mkdirSync(join(localApp, 'gone'));
    const ok = await job(zh, 'files site');
    const m = /文件备份 (\S+) 完成/.exec(ok.text);
    assert.ok(m, ok.text);
    assert.match(ok.text, /🔒 encrypted\.tar\.gz\.gpg：.*AES256 加密/);
    assert.deepEqual(readdirSync(join(localBackupDir, m[1])).sort(), ['encrypted.tar.gz.gpg', 'manifest.json', 'plain.tar.gz']);
  });
});
