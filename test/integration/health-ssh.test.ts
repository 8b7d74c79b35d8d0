/**
 * /health over SSH hosts, end to end through the bot: the figures equal what df -P and
 * /proc/meminfo give over plain ssh, the error-log count equals grep -c, a spoofed host key and a
 * stopped sshd are ❌ with the reason, and neither holds up or spoils the other hosts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dropSessions, startSshd, type SshHost as Sshd } from '../harness/sshd.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { humanSize } from '../../src/targets/host-parse.ts';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SKIP_FS = ['tmpfs', 'devtmpfs', 'squashfs', 'efivarfs'].flatMap((t) => ['-x', t]);

/** Rows of df output: [filesystem, size, used, avail, use%, mount], without containers' overlay mounts (opsbot skips those). */
const dfRows = (text: string) => text.trim().split('\n').slice(1)
  .map((l) => { const f = l.trim().split(/\s+/); return [...f.slice(0, 5), f.slice(5).join(' ')]; })
  .filter((r) => r[0] !== 'overlay' || r[5] === '/');

describe('/health over SSH hosts', () => {
  let app1: Sshd;
  let app2: Sshd;
  let app2Netns = false;
  let tarpit: Tarpit;
  let t: TestBot;
  let errorLog: string;

  before(async () => {
    app1 = await startSshd();
    try {
      app2 = await startSshd({ netns: true });
      app2Netns = true;
    } catch (err) {
      if (!(err as Error).message.startsWith('netns unavailable:')) throw err;
      app2 = await startSshd(); // a second loopback sshd stands in for a second machine
    }
    tarpit = await startTarpit();
    errorLog = join(app1.dir, 'error.log');
    writeFileSync(errorLog, Array.from({ length: 40 }, (_, i) => (i % 6 === 0 ? `2024-05-01 10:00:${String(i).padStart(2, '0')} ERROR failed ${i}` : `2024-05-01 10:00:00 INFO ok ${i}`)).join('\n') + '\n');
    t = await startTestBot({
      targets: {
        local: false,
        hosts: {
          // The key comes from the environment, as an operator would keep it.
          app1: { address: app1.host, port: app1.port, user: app1.user, privateKey: '${SSH_KEY}', hostKey: app1.hostKeyFingerprint, timeout: '2s' },
          app2: { address: app2.host, port: app2.port, user: app2.user, privateKeyFile: app2.privateKeyPath, hostKey: app2.hostKeyFingerprint },
          // app1's server, pinned to app2's key: what a man in the middle would look like.
          spoofed: { address: app1.host, port: app1.port, user: app1.user, privateKeyFile: app1.privateKeyPath, hostKey: app2.hostKeyFingerprint },
          hung: { address: '127.0.0.1', port: tarpit.port, user: 'root', privateKeyFile: app1.privateKeyPath, hostKey: app1.hostKeyFingerprint, timeout: '1s' },
        },
      },
      services: { backend: { host: 'app1', logs: { error: errorLog } } },
      health: { timeout: '5s', error_log: { lines: 1000 } },
    }, { env: { SSH_KEY: app1.privateKey } });
  });
  after(async () => {
    await t?.close();
    await tarpit?.stop();
    await app1?.stop();
    await app2?.stop();
  });

  test('app1 shows the disk and memory figures that df -P and /proc/meminfo give over plain ssh', async () => {
    const memUsed = async () => {
      const m = Object.fromEntries([...(await app1.ssh('cat', '/proc/meminfo')).matchAll(/^(\w+):\s+(\d+) kB/gm)].map((x) => [x[1], Number(x[2]) * 1024]));
      return { total: m.MemTotal, pct: ((m.MemTotal - m.MemAvailable) / m.MemTotal) * 100 };
    };
    // Disk and memory use move while other tests run: the report must fall between reads taken
    // just before and just after it (and is tried again when something moved meanwhile).
    let problems: string[] = [];
    let text = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      problems = [];
      const [dfBefore, memBefore] = [dfRows(await app1.ssh('df', '-hP', ...SKIP_FS)), await memUsed()];
      text = messageText((await t.run('/health')).reply);
      const [dfAfter, memAfter] = [dfRows(await app1.ssh('df', '-hP', ...SKIP_FS)), await memUsed()];
      const dfK = dfRows(await app1.ssh('df', '-P', '-k', ...SKIP_FS));
      assert.ok(dfBefore.length > 0);
      for (const [fs, size, used, avail, use, mount] of dfBefore) {
        // Sizes as df -h prints them, Use% as df -P prints it in 1K blocks.
        const line = `*host app1 disk ${mount}*: ${use} used (${used} of ${size}, ${avail} free)`;
        const other = dfAfter.find((r) => r[5] === mount);
        const otherLine = other && `*host app1 disk ${mount}*: ${other[4]} used (${other[2]} of ${other[1]}, ${other[3]} free)`;
        if (!text.includes(line) && !(otherLine && text.includes(otherLine))) problems.push(`${fs} on ${mount}: expected ${line}`);
        const useK = dfK.find((r) => r[5] === mount)?.[4];
        if (useK !== use && useK !== other?.[4]) problems.push(`df -P says ${useK} for ${mount}, df -hP ${use}`);
      }
      const mem = /\*host app1 memory\*: ([\d.]+)% used \((\S+) of (\S+), (\S+) available\)/.exec(text);
      assert.ok(mem, text);
      assert.equal(mem[3], humanSize(memBefore.total));
      // Shown rounded to 1% (0.1% below 10%).
      const [lo, hi] = [Math.min(memBefore.pct, memAfter.pct) - 0.5, Math.max(memBefore.pct, memAfter.pct) + 0.5];
      if (!(Number(mem[1]) >= lo && Number(mem[1]) <= hi)) problems.push(`memory ${mem[1]}% not within /proc/meminfo's ${lo.toFixed(2)}–${hi.toFixed(2)}%`);
      if (!problems.length) break;
    }
    assert.deepEqual(problems, [], text);

    const cores = (await app1.ssh('nproc')).trim();
    assert.match(text, new RegExp(`\\*host app1 load\\*: [\\d.]+ on ${cores} cores`));
    assert.match(text, /✅ \*host app2 disk \/\*: /);
    assert.match(text, /✅ \*host app2 memory\*/);
  });

  test('the error count equals grep -c ERROR on the same file', async () => {
    const before = Number((await app1.ssh('grep', '-c', 'ERROR', errorLog)).trim());
    assert.equal(before, 7);
    let text = messageText((await t.run('/health')).reply);
    assert.match(text, new RegExp(`⚠️ \\*errors backend\\*: ${before} ERROR lines in the last 1000 lines of ${esc(errorLog)}`));

    appendFileSync(errorLog, 'ERROR one more\nTraceback: ERROR nested\nno error here\n');
    const after = Number((await app1.ssh('grep', '-c', 'ERROR', errorLog)).trim());
    assert.equal(after, before + 2);
    text = messageText((await t.run('/health', 'errors')).reply);
    assert.match(text, new RegExp(`\\*errors backend\\*: ${after} ERROR lines in the last 1000 lines of ${esc(errorLog)}`));
    assert.match(text, new RegExp(`Error log backend \\(app1:${esc(errorLog)}\\)`));
    assert.doesNotMatch(text, /host app1/, '/health errors shows the error logs only');
  });

  test('a host presenting another key is refused, showing the expected and the actual fingerprint', async () => {
    const text = messageText((await t.run('/health', 'host')).reply);
    const line = `❌ *host spoofed*: host key mismatch for spoofed (${app1.host}:${app1.port}): expected ${app2.hostKeyFingerprint}, got ${app1.hostKeyFingerprint} — refusing to connect`;
    assert.ok(text.includes(line), text);
    assert.match(text, /✅ \*host app1 disk \/\*/);
  });

  test('a host that never answers is ❌ at its own timeout and holds up nothing else', async () => {
    const started = Date.now();
    const text = messageText((await t.run('/health', 'host')).reply);
    const elapsed = Date.now() - started;
    assert.match(text, new RegExp(`❌ \\*host hung\\*: (timeout after 1 s|unreachable: no SSH handshake with 127\\.0\\.0\\.1:${tarpit.port} within 1 s)`));
    assert.ok(elapsed < 2500, `report after ${elapsed} ms; the hung host's limit is 1 s`);
    assert.match(text, /✅ \*host app2 disk \/\*/);
  });

  test('sshd stopped: app1 is one ❌ unreachable line within its timeout; app2 stays ✅; back once sshd is', async () => {
    await app1.stop();
    dropSessions(app1); // a stopped sshd keeps open sessions; a host going down does not
    try {
      const started = Date.now();
      const text = messageText((await t.run('/health')).reply);
      const elapsed = Date.now() - started;
      assert.ok(text.includes(`❌ *host app1*: unreachable: connect ECONNREFUSED ${app1.host}:${app1.port}`), text);
      assert.doesNotMatch(text, /host app1 (disk|memory|load)/);
      assert.ok(text.includes(`❌ *errors backend*: unreachable: connect ECONNREFUSED ${app1.host}:${app1.port}`), text);
      assert.match(text, /✅ \*host app2 disk \/\*/);
      assert.match(text, /✅ \*host app2 memory\*/);
      // The hung host bounds the whole report at 1 s; app1's 2 s limit is not even reached.
      assert.ok(elapsed < 2500, `report after ${elapsed} ms`);
      console.log(`app2 ${app2Netns ? 'in its own network namespace' : 'on loopback'}; report in ${elapsed} ms`);
    } finally {
      await app1.start();
    }
    const text = messageText((await t.run('/health', 'host')).reply);
    assert.match(text, /✅ \*host app1 disk \/\*/);
  });
});
