/**
 * /health over SSH hosts, end to end through the bot: the figures equal what df -P and
 * /proc/meminfo give over plain ssh, the error-log count equals grep -c, a spoofed host key and a
 * stopped sshd are ❌ with the reason, and neither holds up or spoils the other hosts.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dropSessions, startSshd, type SshHost as Sshd } from '../harness/sshd.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { scaled, scaledDuration, until } from '../helpers/wait.ts';

/** 1000 → "1 s", 1500 → "1.5 s", as a person writes a limit. */
const secs = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`);

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SKIP_FS = ['tmpfs', 'devtmpfs', 'squashfs', 'efivarfs'].flatMap((t) => ['-x', t]);

/** "7.6G" → bytes, binary units as df -h and free -h print them. */
function bytesOf(shown: string): number {
  const m = /^([\d.]+)([KMGTPE]?)i?B?$/.exec(shown);
  assert.ok(m, `not a size: ${shown}`);
  return Number(m[1]) * 1024 ** ' KMGTPE'.indexOf(m[2] || ' ');
}

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
          app1: { address: app1.host, port: app1.port, user: app1.user, privateKey: '${SSH_KEY}', hostKey: app1.hostKeyFingerprint, timeout: scaledDuration(2000) },
          app2: { address: app2.host, port: app2.port, user: app2.user, privateKeyFile: app2.privateKeyPath, hostKey: app2.hostKeyFingerprint },
          // app1's server, pinned to app2's key: what a man in the middle would look like.
          spoofed: { address: app1.host, port: app1.port, user: app1.user, privateKeyFile: app1.privateKeyPath, hostKey: app2.hostKeyFingerprint },
          hung: { address: '127.0.0.1', port: tarpit.port, user: 'root', privateKeyFile: app1.privateKeyPath, hostKey: app1.hostKeyFingerprint, timeout: scaledDuration(1000) },
        },
      },
      services: { backend: { host: 'app1', logs: { error: errorLog } } },
      health: { timeout: scaledDuration(5000), error_log: { lines: 1000 } },
    }, { env: { SSH_KEY: app1.privateKey } });
  });
  after(async () => {
    await t?.close();
    await tarpit?.stop();
    await app1?.remove();
    await app2?.remove();
  });

  test('app1 shows the disk and memory figures that df -P and /proc/meminfo give', async () => {
    // The expected figures come from this machine directly (app1's sshd runs here): /proc/meminfo
    // read from disk, and df -P run in an SSH session of app1's own user with the system ssh
    // client, so it sees the mounts such a session sees (a /run/netns bind mount left by
    // `ip netns` shows there, not in root's df). They are parsed here, with nothing from opsbot.
    const meminfo = () => {
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
      const total = kb('MemTotal');
      const available = kb('MemAvailable');
      return { total, available, used: total - available, pct: ((total - available) / total) * 100 };
    };
    // "Filesystem 1024-blocks Used Available Capacity Mounted-on"; the mount point may hold spaces.
    const dfP = async () => new Map((await app1.ssh('LC_ALL=C', 'df', '-P', '-k', ...SKIP_FS))
      .trim().split('\n').slice(1)
      .map((l) => l.split(/\s+/))
      .map((f) => ({ fs: f[0], size: Number(f[1]) * 1024, used: Number(f[2]) * 1024, avail: Number(f[3]) * 1024, use: f[4], mount: f.slice(5).join(' ') }))
      .filter((r) => r.fs !== 'overlay' || r.mount === '/') // containers' overlay mounts: opsbot leaves those out
      .map((r) => [r.mount, r] as const));
    // Disk and memory use move while other tests run: each figure must fall between the reads
    // taken just before and just after the report, give or take its display rounding.
    let problems: string[] = [];
    let text = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      problems = [];
      const [dfBefore, memBefore] = [await dfP(), meminfo()];
      text = messageText((await t.run('/health')).reply);
      const [dfAfter, memAfter] = [await dfP(), meminfo()];
      assert.ok(dfBefore.size > 0);
      const near = (what: string, shown: string, a: number, b: number) => {
        const v = bytesOf(shown);
        // Shown with two or three significant digits, rounded up: within 10% (or 1 KiB) of the range.
        const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
        if (!(v >= lo * 0.9 - 1024 && v <= hi * 1.1 + 1024)) problems.push(`${what}: shown ${shown} (${v} B), measured ${lo}–${hi} B`);
      };
      for (const [mount, b] of dfBefore) {
        const a = dfAfter.get(mount) ?? b;
        const m = new RegExp(`(✅|⚠️|❌) \\*host app1 disk ${esc(mount)}\\*: (\\d+%) used \\((\\S+) of (\\S+), (\\S+) free\\)`).exec(text);
        if (!m) {
          problems.push(`no line for ${b.fs} on ${mount}`);
          continue;
        }
        if (m[2] !== b.use && m[2] !== a.use) problems.push(`${mount}: ${m[2]} used, df -P says ${b.use}/${a.use}`);
        near(`${mount} used`, m[3], b.used, a.used);
        near(`${mount} size`, m[4], b.size, a.size);
        near(`${mount} free`, m[5], b.avail, a.avail);
        // The status follows the Use% df gives, against the default thresholds (warn 80%, crit 90%).
        const pct = Number(m[2].slice(0, -1));
        const want = pct >= 90 ? '❌' : pct >= 80 ? '⚠️' : '✅';
        if (m[1] !== want) problems.push(`${mount}: ${m[1]} at ${m[2]}`);
      }
      const shownMounts = [...text.matchAll(/\*host app1 disk (.+?)\*:/g)].map((x) => x[1]).sort();
      if (JSON.stringify(shownMounts) !== JSON.stringify([...dfBefore.keys()].sort())) problems.push(`mounts shown ${shownMounts}, df -P has ${[...dfBefore.keys()]}`);

      const mem = /(✅|⚠️|❌) \*host app1 memory\*: ([\d.]+)% used \((\S+) of (\S+), (\S+) available\)/.exec(text)?.slice(1);
      assert.ok(mem, text);
      const memWant = memBefore.pct >= 95 ? '❌' : memBefore.pct >= 85 ? '⚠️' : '✅'; // default thresholds 85%, 95%
      if (mem[0] !== memWant && Math.abs(memBefore.pct - 85) > 1 && Math.abs(memBefore.pct - 95) > 1) problems.push(`memory: ${mem[0]} at ${memBefore.pct.toFixed(1)}%`);
      // Shown rounded to 1% (0.1% below 10%).
      const [lo, hi] = [Math.min(memBefore.pct, memAfter.pct) - 0.5, Math.max(memBefore.pct, memAfter.pct) + 0.5];
      if (!(Number(mem[1]) >= lo && Number(mem[1]) <= hi)) problems.push(`memory ${mem[1]}% not within /proc/meminfo's ${lo.toFixed(2)}–${hi.toFixed(2)}%`);
      near('memory used', mem[2], memBefore.used, memAfter.used);
      near('memory total', mem[3], memBefore.total, memAfter.total);
      near('memory available', mem[4], memBefore.available, memAfter.available);
      if (!problems.length) break;
    }
    assert.deepEqual(problems, [], text);

    const cores = String(availableParallelism());
    assert.match(text, new RegExp(`\\*host app1 load\\*: [\\d.]+ on ${cores} cores`));
    const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    const shownLoad = Number(/\*host app1 load\*: ([\d.]+) on/.exec(text)?.[1]);
    assert.ok(Math.abs(shownLoad - load1) < 2 + load1 / 2, `load ${shownLoad} shown, /proc/loadavg says ${load1}`);
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
    const limit = esc(secs(scaled(1000)));
    assert.match(text, new RegExp(`❌ \\*host hung\\*: (timeout after ${limit}|unreachable: no SSH handshake with 127\\.0\\.0\\.1:${tarpit.port} within ${limit})`));
    assert.ok(elapsed < scaled(2500), `report after ${elapsed} ms; the hung host's limit is ${secs(scaled(1000))}`);
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
      assert.ok(elapsed < scaled(2500), `report after ${elapsed} ms`);
      console.log(`app2 ${app2Netns ? 'in its own network namespace' : 'on loopback'}; report in ${elapsed} ms`);
    } finally {
      await app1.start();
    }
    // Back means back on a later /health: the first one after the restart opens a new connection,
    // and on a loaded machine that handshake alone can outlast app1's 2 s limit.
    await until('app1 back in /health host', scaled(30_000), async () => messageText((await t.run('/health', 'host')).reply), (text) => /✅ \*host app1 disk \/\*/.test(text));
  });
});
