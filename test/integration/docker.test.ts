/**
 * DockerTarget against a real Docker Engine: compose-labelled busybox containers in a project
 * name unique to this process, so other test files sharing the engine are not seen.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { UnavailableError, UserError } from '../../src/core/errors.ts';
import { DockerTarget } from '../../src/targets/docker.ts';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';

const project = `mitong${process.pid}`;
const other = `other${process.pid}`;
const name = (service: string, p = project) => `${p}-${service}-1`;

describe('DockerTarget on a real Docker Engine', () => {
  let engine: DockerEngine;
  let target: DockerTarget;

  before(async () => {
    engine = await sharedDocker();
    await Promise.all([
      engine.runComposeService({ project, service: 'backend', healthcheck: true }),
      engine.runComposeService({ project, service: 'worker' }),
      engine.runComposeService({ project, service: 'nginx' }),
      // Another project on the same engine: list() must not show it.
      engine.runComposeService({ project: other, service: 'noisy', cmd: ['sh', '-c', 'for i in 1 2 3; do echo line$i; echo err$i >&2; done; sleep 100000'] }),
    ]);
    target = new DockerTarget('local', { socket: engine.socketPath, project }, 5000);
  });
  after(async () => {
    await target?.close();
    await engine?.stop();
  });

  test('list() finds the project containers with their services and states', async () => {
    const list = await target.list();
    assert.deepEqual(list.map((c) => c.name), [name('backend'), name('nginx'), name('worker')]);
    assert.deepEqual(list.map((c) => c.service), ['backend', 'nginx', 'worker']);
    for (const c of list) {
      assert.equal(c.state, 'running');
      assert.equal(c.project, project);
      assert.equal(c.image, engine.image);
      assert.deepEqual(c.command, ['sleep', '100000']);
      assert.equal(c.restartCount, 0);
      assert.equal(c.exitCode, null);
      assert.equal(c.finishedAt, null, 'never stopped: Docker zero time is null');
      assert.ok(c.startedAt && Date.now() - c.startedAt.getTime() < 120_000);
      assert.match(c.id, /^[0-9a-f]{64}$/);
    }
    assert.equal(list.find((c) => c.service === 'worker')!.health, undefined, 'no healthcheck, no health');
    assert.match(target.where, new RegExp(`unix://${engine.socketPath}, project ${project}`));
  });

  test('inspect() by name or id; a missing container is null', async () => {
    const byName = await target.inspect(name('worker'));
    assert.ok(byName);
    const byId = await target.inspect(byName.id);
    assert.equal(byId?.name, name('worker'));
    assert.equal(await target.inspect(`${project}-missing-1`), null);
    assert.equal(await target.inspect('../../info'), null, 'not a container name, never sent');
  });

  test('restart() starts the container again, exactly once', async () => {
    const since = new Date().toISOString();
    const before = await target.inspect(name('nginx'));
    await target.restart(name('nginx'), { stopTimeoutSec: 1 });
    const after = await target.inspect(name('nginx'));
    assert.equal(after?.state, 'running');
    assert.ok(after!.startedAt! > before!.startedAt!, 'startedAt moved on');
    assert.ok(after!.finishedAt, 'the stop is recorded');
    await sleep(1000); // events arrive a little late
    assert.equal(await engine.countEvents(name('nginx'), 'start', since), 1);
  });

  test('stop() leaves it exited, start() runs it again; both are idempotent', async () => {
    await target.stop(name('worker'), { stopTimeoutSec: 1 });
    const stopped = await target.inspect(name('worker'));
    assert.equal(stopped?.state, 'exited');
    assert.equal(stopped?.exitCode, 137, 'sleep ignores SIGTERM, so it was killed');
    await target.stop(name('worker'), { stopTimeoutSec: 1 });
    await target.start(name('worker'));
    await target.start(name('worker'));
    const started = await target.inspect(name('worker'));
    assert.equal(started?.state, 'running');
    assert.equal(started?.exitCode, null);
  });

  test('operations on a missing container are user errors', async () => {
    await assert.rejects(target.restart(`${project}-missing-1`, { stopTimeoutSec: 0 }), (err: Error) => err instanceof UserError && /no such container/.test(err.message));
    await assert.rejects(target.logs(`${project}-missing-1`), UserError);
    await assert.rejects(target.stop('bad/name'), /Invalid container name/);
  });

  test('logs() demultiplexes stdout and stderr', async () => {
    const noisy = name('noisy', other);
    const text = await until('six log lines', 10_000, () => target.logs(noisy), (t) => t.split('\n').filter(Boolean).length >= 6);
    // The two streams are copied separately, so only each stream's own order is guaranteed.
    const lines = text.split('\n').filter(Boolean);
    assert.deepEqual([...lines].sort(), ['err1', 'err2', 'err3', 'line1', 'line2', 'line3']);
    assert.deepEqual(lines.filter((l) => l.startsWith('line')), ['line1', 'line2', 'line3']);
    assert.deepEqual(lines.filter((l) => l.startsWith('err')), ['err1', 'err2', 'err3']);
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f]/, 'no frame header bytes');
    assert.equal((await target.logs(noisy, { tail: 2 })).split('\n').filter(Boolean).length, 2);
    assert.equal((await target.logs(noisy, { sinceSec: 3600 })).split('\n').filter(Boolean).length, 6);
  });

  test('logs() over maxBytes keeps the newest lines after a marker', async () => {
    const text = await target.logs(name('noisy', other), { maxBytes: 12 });
    const [marker, ...rest] = text.split('\n');
    assert.equal(marker, '… [output cut at 12 bytes]');
    const kept = rest.join('\n');
    assert.ok(Buffer.byteLength(kept) <= 12, kept);
    assert.ok(kept.length > 0 && /^(line|err)\d\n/.test(kept), `whole lines: ${JSON.stringify(kept)}`);
    assert.match(kept, /(line3|err3)\n$/);
  });

  test('scanLogs() searches a 200,000-line log whole, streamed, with memory bounded by its limits', async (t) => {
    const big = name('big', other);
    const lines = 200_000;
    await engine.runComposeService({
      project: other, service: 'big',
      cmd: ['sh', '-c', `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) { if (i % 50000 == 1) print "NEEDLE " i; else printf "filler %07d padding padding padding padding padding padding\\n", i }; print "END" }'; exec sleep 100000`],
    });
    await until('the whole log written', 60_000, () => target.logs(big, { tail: 1 }), (t) => t.includes('END'), 200);
    // Live memory, sampled after a full collection: garbage does not count, what is held does.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = live();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, live() - base)), 250);
    const t0 = Date.now();
    let scan;
    try {
      scan = await target.scanLogs(big, { grep: 'NEEDLE', keep: 10 });
    } finally {
      clearInterval(sampler);
    }
    const ms = Date.now() - t0;
    assert.deepEqual(scan.lines, ['NEEDLE 1', 'NEEDLE 50001', 'NEEDLE 100001', 'NEEDLE 150001']);
    assert.equal(scan.scannedLines, lines + 1);
    assert.ok(scan.scannedBytes > 12_000_000, `read ${scan.scannedBytes} bytes`);
    assert.deepEqual([scan.matched, scan.dropped, scan.longLines, scan.stoppedEarly], [4, 0, 0, false]);
    // The log is about 12.6 MB, and reading it whole peaked at about 50 MiB. Streamed, what is held
    // is the kept lines and the socket's buffers in flight: around 1 MiB, more when the engine
    // sends fast. A third of the log would show here.
    t.diagnostic(`${scan.scannedBytes} bytes in ${ms} ms; peak live memory ${(peak / 1048576).toFixed(2)} MiB`);
    assert.ok(peak < 4 * 1024 * 1024, `peak live memory ${(peak / 1048576).toFixed(1)} MiB over ${ms} ms`);

    // Kept lines are bounded in number and bytes, and what was left out is counted.
    const newest = await target.scanLogs(big, { grep: 'filler', keep: 1000, maxBytes: 4096 });
    assert.ok(newest.lines.length < 100 && newest.lines.length > 40, `${newest.lines.length} lines kept`);
    assert.match(newest.lines.at(-1)!, /^filler 0200000 /);
    assert.equal(newest.matched, lines - 4);
    assert.equal(newest.dropped, newest.matched - newest.lines.length);
    // A deadline stops the read, and says so.
    const stopped = await target.scanLogs(big, { grep: 'NEEDLE', deadlineMs: 1 });
    assert.equal(stopped.stoppedEarly, true);
    assert.ok(stopped.scannedLines < lines);
  });

  test('scanLogs() keeps the head of a 200 KB line, matches its end, and reads a TTY log', async () => {
    const long = name('long', other);
    await engine.runComposeService({
      project: other, service: 'long',
      cmd: ['sh', '-c', `awk 'BEGIN { s = "abcdefghij"; while (length(s) < 200000) s = s s; print substr(s, 1, 200000) "TAIL"; print "after" }'; exec sleep 100000`],
    });
    await until('the long line written', 30_000, () => target.logs(long, { tail: 1 }), (t) => t.includes('after'), 200);
    const scan = await target.scanLogs(long, { grep: 'TAIL', maxLineBytes: 1000 });
    assert.equal(scan.lines.length, 1);
    assert.equal(scan.lines[0], `${'abcdefghij'.repeat(100)} … [line cut: 200004 bytes, the first 1000 shown]`);
    assert.deepEqual([scan.scannedLines, scan.longLines], [2, 1]);

    const tty = `${other}-tty-1`;
    await engine.docker('run', '-d', '-t', '--name', tty, '--network', 'none', engine.image, 'sh', '-c', 'echo tty one; echo tty two; exec sleep 100000');
    try {
      const text = await until('tty output', 10_000, () => target.scanLogs(tty), (s) => s.lines.length >= 2);
      assert.deepEqual(text.lines, ['tty one', 'tty two'], 'no frame headers, no carriage returns');
    } finally {
      await engine.docker('rm', '-f', tty).catch(() => undefined);
    }
  });

  test('waitReady() waits for a healthcheck to pass', async () => {
    const fresh = name('api', other);
    await engine.runComposeService({ project: other, service: 'api', healthcheck: true });
    const r = await target.waitReady(fresh, { deadlineMs: 20_000, pollMs: 200 });
    assert.equal(r.ready, true);
    assert.equal(r.info?.health, 'healthy');
    assert.ok(r.waitedMs > 0, 'health was still starting at first');
  });

  test('waitReady() with an impossible condition gives up at the deadline, without throwing', async () => {
    const t0 = Date.now();
    const r = await target.waitReady(name('backend'), { deadlineMs: 1500, pollMs: 200, startedAfter: new Date(Date.now() + 3_600_000) });
    assert.equal(r.ready, false);
    assert.equal(r.info?.name, name('backend'), 'the last state seen');
    assert.ok(r.waitedMs >= 1500 && Date.now() - t0 < 3000, `waited ${r.waitedMs} ms`);
    const missing = await target.waitReady(`${project}-missing-1`, { deadlineMs: 300, pollMs: 100 });
    assert.deepEqual([missing.ready, missing.info], [false, null]);
  });

  test('a missing socket is UnavailableError naming the path, at once', async () => {
    const socket = join(tmpdir(), `opsbot-no-docker-${process.pid}`, 'docker.sock');
    const gone = new DockerTarget('gone', { socket }, 5000);
    const t0 = Date.now();
    await assert.rejects(gone.list(), (err: Error) => {
      assert.ok(err instanceof UnavailableError);
      assert.equal(err.message, `cannot reach Docker at ${socket}: ENOENT`);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    await gone.close();
  });

  test('a socket that never answers times out as UnavailableError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'opsbot-hung-'));
    const socket = join(dir, 'docker.sock');
    const held = new Set<net.Socket>();
    const server = net.createServer((s) => { held.add(s); s.on('error', () => {}); });
    await new Promise<void>((r) => server.listen(socket, r));
    const hung = new DockerTarget('hung', { socket, timeout: 500 }, 5000);
    try {
      const t0 = Date.now();
      await assert.rejects(hung.list(), { name: 'UnavailableError', message: `cannot reach Docker at ${socket}: timeout after 500 ms` });
      // A state change gets its stop timeout plus at least 15 s (a busy engine starts containers
      // slowly), then gives up saying that it did not finish, not that Docker is unreachable.
      const t1 = Date.now();
      await assert.rejects(hung.stop('x', { stopTimeoutSec: 0 }), {
        name: 'UnavailableError',
        message: `Docker at ${socket} did not finish the stop of "x" within 15 s; it may still be going on (check it with /health containers)`,
      });
      const took = Date.now() - t1;
      assert.ok(took >= 14_900 && took < 15_000 + scaled(2000), `took ${took} ms`);
      assert.ok(t1 - t0 < scaled(2000), `list took ${t1 - t0} ms`);
    } finally {
      await hung.close();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
