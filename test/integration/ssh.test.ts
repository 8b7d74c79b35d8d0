/**
 * SshHost against a real OpenSSH server: templates only, output cap, timeouts that kill, pinned
 * host keys, one reused connection, and reconnecting after the server comes back.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dropSessions, startSshd, type SshHost as Sshd } from '../harness/sshd.ts';
import { UnavailableError } from '../../src/core/errors.ts';
import { LocalHost } from '../../src/targets/local-host.ts';
import { SshHost, type HostConfig } from '../../src/targets/ssh.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';

function hostConfig(h: Sshd, extra: Partial<HostConfig> = {}): HostConfig {
  return { address: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey: h.hostKeyFingerprint, ...extra };
}

/** How many logins the server has accepted: one per SSH connection. */
function logins(h: Sshd): number {
  return (readFileSync(join(h.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return ''; // exited while we looked
  }
}

/**
 * Processes on the sshd host whose command line mentions `needle`. Only the harness's login user
 * runs them, so another process's `tail` on this machine is never counted.
 */
function remoteProcessesWith(h: Sshd, needle: string): number[] {
  return h.processes().filter((pid) => cmdline(pid).includes(needle));
}

/** This test process's descendants (walked by parent pid in /proc) whose command line mentions `needle`. */
function childProcessesWith(needle: string): number[] {
  const parent = new Map<number, number>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...parent.keys()].filter((pid) => mine(pid) && cmdline(pid).includes(needle));
}

describe('SshHost over a real sshd', () => {
  let h: Sshd;
  let host: SshHost;

  before(async () => {
    h = await startSshd();
    host = new SshHost('app1', hostConfig(h), scaled(5000));
  });
  after(async () => {
    await host?.close();
    await h?.remove();
  });

  test('runs templates and returns what the programs print', async () => {
    const log = join(h.dir, 'app.log');
    writeFileSync(log, ['INFO start', 'ERROR one', 'ERROR two', 'WARN x', 'INFO ERROR inside', 'last'].join('\n') + '\n');

    const tail = await host.run('tail', [log, 2]);
    assert.deepEqual(tail, { stdout: 'INFO ERROR inside\nlast\n', stderr: '', code: 0, truncated: false });

    const count = await host.run('grepCount', ['ERROR', log]);
    assert.equal(count.stdout.trim(), (await h.ssh('grep', '-c', 'ERROR', log)).trim());
    assert.equal(count.stdout.trim(), '3');

    // No match is an answer, not an exception: grep -c prints 0 and exits 1.
    const none = await host.run('grepCount', ['FATAL', log]);
    assert.deepEqual([none.stdout.trim(), none.code], ['0', 1]);
    const missing = await host.run('grepCount', ['ERROR', join(h.dir, 'nope.log')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No such file/);

    const st = statSync(log);
    assert.equal((await host.run('stat', [log])).stdout.trim(), `${st.size} ${Math.floor(st.mtimeMs / 1000)}`);
    assert.match((await host.run('listening', [])).stdout, new RegExp(`127\\.0\\.0\\.1:${h.port}\\b`));
    assert.equal((await host.run('tcpProbe', ['127.0.0.1', h.port])).code, 0);
    assert.notEqual((await host.run('tcpProbe', ['127.0.0.1', 1])).code, 0);

    const meminfo = await host.run('meminfo', []);
    const total = (s: string) => /^MemTotal:\s+(\d+) kB/m.exec(s)?.[1];
    assert.equal(total(meminfo.stdout), total(await h.ssh('cat', '/proc/meminfo')));
    assert.equal(host.connections, 1);
  });

  test('one connection serves every command, also many at once', async () => {
    const before = logins(h);
    const results = await Promise.all(Array.from({ length: 25 }, () => host.run('nproc', [])));
    for (let i = 0; i < 5; i++) await host.run('loadavg', []);
    assert.ok(results.every((r) => r.code === 0 && Number(r.stdout) > 0));
    await sleep(100);
    // 25 at once is past OpenSSH's 10 sessions per connection; the executor queues them instead.
    assert.equal(logins(h) - before, 0, 'no new login');
    assert.equal(host.connections, 1);
  });

  test('output past maxBytes is cut with a marker, and the connection stays usable', async () => {
    const big = join(h.dir, 'big.log');
    writeFileSync(big, Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'y'.repeat(80)}`).join('\n') + '\n');
    const r = await host.run('tail', [big, 20_000], { maxBytes: 4096 });
    assert.equal(r.truncated, true);
    assert.ok(r.stdout.endsWith('… [output cut at 4096 bytes]'), r.stdout.slice(-80));
    assert.ok(Buffer.byteLength(r.stdout) < 4096 + 40);
    assert.ok(r.stdout.startsWith('line 0 yyy'), 'the first bytes are kept');
    assert.equal((await host.run('nproc', [])).code, 0);
    assert.equal(host.connections, 1);
  });

  test('a command past its timeout is killed on the host and reported', async () => {
    const fifo = join(h.dir, 'blocked.fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    // tail on a FIFO with no writer blocks in open() forever.
    await assert.rejects(host.run('tail', [fifo, 10], { timeoutMs: 700 }), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.equal(err.message, 'tail on app1 timed out after 700 ms (killed)');
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 650 && elapsed < 700 + scaled(800), `gave up after ${elapsed} ms`);
    // The host's own `timeout` ends it (OpenSSH ignores signal requests on root sessions, and
    // the executor cannot know whose session it has).
    await until('the blocked tail on the host', scaled(5000), async () => remoteProcessesWith(h, fifo), (p) => p.length === 0);

    // The same with time to look: the tail is seen running as the login user, then it is gone.
    // (Without this, a tail that never started would pass the check above.)
    const running = host.run('tail', [fifo, 10], { timeoutMs: scaled(3000) });
    running.catch(() => undefined);
    await until('the blocked tail on the host', scaled(2500), async () => remoteProcessesWith(h, fifo), (p) => p.length > 0);
    await assert.rejects(running, /^UnavailableError: tail on app1 timed out after \d+(\.\d+)? s \(killed\)$/);
    await until('the killed tail on the host', scaled(5000), async () => remoteProcessesWith(h, fifo), (p) => p.length === 0);
    // A hung command does not cost the connection.
    assert.equal((await host.run('nproc', [])).code, 0);
    assert.equal(host.connections, 1);
  });

  test('values are quoted: shell syntax in a pattern or a file name is never run', async () => {
    // The login user can write only to its home: an injected `touch` there would succeed.
    const pwned = join(h.home, 'pwned');
    const log = join(h.dir, 'quoted.log');
    writeFileSync(log, `ERROR '; touch ${pwned} #\nplain\n`);
    for (const pattern of [`'; touch ${pwned} #`, `$(touch ${pwned})`, `\`touch ${pwned}\``, `"; touch ${pwned}; "`, `x\ntouch ${pwned}`]) {
      const r = await host.run('grepFixed', [pattern, log]);
      assert.ok(r.code === 0 || r.code === 1, `grep status ${r.code}: ${r.stderr}`);
    }
    assert.equal((await host.run('grepFixed', [`'; touch ${pwned} #`, log])).stdout, `ERROR '; touch ${pwned} #\n`);
    // A file name cannot hold "/", so this one would touch a file in the login's home directory
    // (the working directory of every session).
    const relative = `opsbot-pwned-${process.pid}`;
    const oddName = join(h.dir, `$(touch ${relative}) \`touch ${relative}\` it's.log`);
    writeFileSync(oddName, 'ERROR a\nERROR b\n');
    assert.equal((await host.run('grepCount', ['ERROR', oddName])).stdout.trim(), '2');
    assert.equal((await host.run('countInLastLines', ['ERROR', oddName, 10])).stdout.trim(), '2');
    assert.equal(existsSync(pwned), false, 'a quoted value ran on the host');
    assert.equal(existsSync(join(h.home, relative)), false, 'a quoted file name ran on the host');
    // The probe itself works: the same touch, unquoted on purpose, does create the file.
    await h.ssh(`touch ${relative}`);
    assert.equal(existsSync(join(h.home, relative)), true, 'the login user cannot write its home');
  });

  test('ERROR counts: the last N lines, and the last N minutes by the leading timestamp', async () => {
    const log = join(h.dir, 'error.log');
    const stamp = (minutesAgo: number, sep = ' ') => {
      const d = new Date(Date.now() - minutesAgo * 60_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}${sep}${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const [t120, t30, t5, t2, t1] = [stamp(120), stamp(30), stamp(5), stamp(2, 'T'), stamp(1)];
    writeFileSync(log, [
      'ERROR before any timestamp: age unknown, not counted',
      `${t120},001 ERROR old`,
      'Traceback line with ERROR, belongs to the old record',
      `${t30},002 ERROR half an hour ago`,
      `${t5},003 INFO recent`,
      'ERROR in a traceback of the recent record',
      `${t2} ERROR recent, ISO "T" separator`,
      `${t1} WARN no error`,
    ].join('\n') + '\n');
    const count = async (t: 'countInLastMinutes' | 'countInLastLines', n: number) => {
      const r = await host.run(t, ['ERROR', log, n]);
      assert.equal(r.stderr, '');
      return Number(r.stdout.trim());
    };
    assert.equal(await count('countInLastMinutes', 10), 2);
    assert.equal(await count('countInLastMinutes', 60), 3);
    assert.equal(await count('countInLastMinutes', 180), 5);
    assert.equal(await count('countInLastLines', 3), 2);
    assert.equal(await count('countInLastLines', 1000), Number((await h.ssh('grep', '-c', 'ERROR', log)).trim()));
    // The same window for /logs --since: the newest lines, optionally only those with a string.
    const since = async (minutes: number, lines: number, pattern: string) => (await host.run('linesSince', [log, minutes, lines, pattern])).stdout;
    assert.equal(await since(10, 100, ''), `${t5},003 INFO recent\nERROR in a traceback of the recent record\n${t2} ERROR recent, ISO "T" separator\n${t1} WARN no error\n`);
    assert.equal(await since(10, 1, 'ERROR'), `${t2} ERROR recent, ISO "T" separator\n`);
    assert.equal(await since(60, 100, 'half an hour'), `${t30},002 ERROR half an hour ago\n`);
    const missing = await host.run('countInLastMinutes', ['ERROR', join(h.dir, 'nope.log'), 10]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read/);
  });

  test('a private key file works as well as a key in config', async () => {
    const fromFile = new SshHost('app1', hostConfig(h, { privateKey: undefined, privateKeyFile: h.privateKeyPath }), scaled(5000));
    try {
      assert.equal((await fromFile.run('nproc', [])).code, 0);
    } finally {
      await fromFile.close();
    }
    const noFile = new SshHost('app1', hostConfig(h, { privateKey: undefined, privateKeyFile: join(h.dir, 'no-such-key') }), scaled(5000));
    await assert.rejects(noFile.run('nproc', []), /app1: cannot read private key file .*no-such-key: ENOENT/);
  });
});

describe('SshHost: pinned host keys and reconnecting', () => {
  let h: Sshd;
  before(async () => {
    h = await startSshd();
  });
  after(async () => {
    await h?.remove();
  });

  test('an unknown host key is refused before login, with both fingerprints', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const host = new SshHost('app1', hostConfig(h, { hostKey: wrong }), scaled(5000));
    const pwned = join(h.home, 'pwned');
    const before = logins(h);
    try {
      await assert.rejects(host.run('grepFixed', [`$(touch ${pwned})`, '/etc/hostname']), (err: Error) => {
        assert.ok(err instanceof UnavailableError);
        assert.equal(err.message, `host key mismatch for app1 (${h.host}:${h.port}): expected ${wrong}, got ${h.hostKeyFingerprint} — refusing to connect`);
        return true;
      });
    } finally {
      await host.close();
    }
    await sleep(100);
    assert.equal(logins(h), before, 'it logged in');
    assert.equal(existsSync(pwned), false);
  });

  test('reconnects after the server drops the connection; a changed key is refused', async () => {
    const host = new SshHost('app1', hostConfig(h), scaled(2000));
    try {
      assert.equal((await host.run('nproc', [])).code, 0);
      assert.equal(host.connections, 1);

      await h.stop();
      dropSessions(h);
      await sleep(200);
      await assert.rejects(host.run('nproc', []), (err: Error) => {
        assert.ok(err instanceof UnavailableError);
        assert.match(err.message, new RegExp(`^unreachable: connect ECONNREFUSED ${h.host.replace(/\./g, '\\.')}:${h.port}$`));
        return true;
      });

      await h.start();
      assert.equal((await host.run('nproc', [])).code, 0);
      assert.equal(host.connections, 2, 'a new connection after the drop');

      const pinned = h.hostKeyFingerprint;
      const fresh = await h.replaceHostKey(); // restarts sshd; the open session survives it
      dropSessions(h);
      await sleep(200);
      await assert.rejects(host.run('nproc', []), (err: Error) => {
        assert.equal(err.message, `host key mismatch for app1 (${h.host}:${h.port}): expected ${pinned}, got ${fresh} — refusing to connect`);
        return true;
      });
      assert.equal(host.connections, 2);
    } finally {
      await host.close();
    }
  });

  test('a host that never answers times out as unreachable', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const host = new SshHost('hung', { ...hostConfig(h), port }, 800);
    try {
      const started = Date.now();
      await assert.rejects(host.run('nproc', []), (err: Error) => {
        assert.ok(err instanceof UnavailableError);
        assert.equal(err.message, `unreachable: no SSH handshake with 127.0.0.1:${port} within 800 ms`);
        return true;
      });
      assert.ok(Date.now() - started < 800 + scaled(700));
    } finally {
      await host.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('LocalHost runs the same templates without a shell', () => {
  const host = new LocalHost(scaled(5000));
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'opsbot-local-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('values are argv words, output is capped, no match is a result', async () => {
    const log = join(dir, `$(touch pwned) it's.log`);
    writeFileSync(log, Array.from({ length: 5000 }, (_, i) => `${i % 2 ? 'ERROR' : 'INFO'} ${i}`).join('\n') + '\n');
    assert.deepEqual(await host.run('grepCount', ['ERROR', log]), { stdout: '2500\n', stderr: '', code: 0, truncated: false });
    assert.equal((await host.run('grepCount', ['FATAL', log])).code, 1);
    const capped = await host.run('tail', [log, 5000], { maxBytes: 1000 });
    assert.equal(capped.truncated, true);
    assert.ok(capped.stdout.endsWith('… [output cut at 1000 bytes]'));
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
    const facts = await host.health();
    assert.ok(facts.disks.length > 0 && facts.load.cores > 0 && facts.memory.usedPercent > 0);
  });

  test('a command past its timeout is killed', async () => {
    const fifo = join(dir, 'local.fifo');
    execFileSync('mkfifo', [fifo]);
    // The pipeline templates refuse anything but a regular file; a FIFO is a clean "cannot read".
    const refused = await host.run('countInLastLines', ['ERROR', fifo, 10]);
    assert.deepEqual([refused.code, refused.stderr.trim()], [2, `cannot read ${fifo}`]);
    // While it runs, the check does see it: an empty answer below is not a blind spot.
    const running = host.run('tail', [fifo, 10], { timeoutMs: scaled(3000) });
    await until('the local tail', scaled(2000), async () => childProcessesWith(fifo), (p) => p.length === 1);
    await assert.rejects(running, /local: tail timed out after \d+(\.\d+)? s \(killed\)/);
    await until('the killed tail', scaled(2000), async () => childProcessesWith(fifo), (p) => p.length === 0);
    await assert.rejects(host.run('tail', [fifo, 10], { timeoutMs: 300 }), /local: tail timed out after 300 ms \(killed\)/);
    await until('the killed tail', scaled(2000), async () => childProcessesWith(fifo), (p) => p.length === 0);
  });
});
