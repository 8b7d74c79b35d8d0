import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeOutcome } from '../../src/diagnose/gather.ts';
import { likelyCause, verdict as verdictFor, type DiagnoseFacts } from '../../src/diagnose/verdict.ts';
import { translator } from '../../src/i18n/index.ts';
import type { ContainerInfo } from '../../src/targets/types.ts';

const en = translator('en');
const zh = translator('zh-CN');
/** The verdict as an English reader sees it. */
const verdict = (f: DiagnoseFacts) => verdictFor(f, en);
/** probeOutcome with its reason in English words. */
const probe = (...a: Parameters<typeof probeOutcome>) => {
  const o = probeOutcome(...a);
  return o.error === undefined ? o : { ...o, error: en.text(o.error) };
};

const container = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'abc', name: 'mitong-backend-1', image: 'img', state: 'running', restartCount: 0,
  startedAt: new Date(), finishedAt: null, exitCode: null, command: ['python', 'app.py'], ...over,
});
const base = (over: Partial<DiagnoseFacts> = {}): DiagnoseFacts => ({ service: 'backend', deps: [], ...over });
const pgDown = { kind: 'postgres' as const, name: 'main', where: 'db:5432', tcp: { status: 'failed' as const, from: 'app1', error: 'ECONNREFUSED' }, login: { ok: false, error: 'connect ECONNREFUSED 10.0.0.9:5432' } };

test('an exited service with a database down reads as one sentence, cause first', () => {
  const v = verdict(base({
    container: { name: 'mitong-backend-1', info: container({ state: 'exited', exitCode: 1 }), logTail: ['Starting app', 'psycopg2.OperationalError: could not connect to server: Connection refused', 'exiting'] },
    deps: [pgDown],
  }));
  assert.equal(v.ok, false);
  assert.equal(v.text, 'backend exits with code 1 (`could not connect to server: Connection refused`); postgres main is down (connect ECONNREFUSED 10.0.0.9:5432)');
});

test('a dependency that answers the bot but not the app host is called unreachable from there', () => {
  const v = verdict(base({ deps: [{ ...pgDown, login: { ok: true } }] }));
  assert.match(v.text, /^postgres main is up but unreachable from app1 \(ECONNREFUSED\)$/);
});

test('port and disk problems are reported; a healthy service says what was checked', () => {
  const disks = [{ filesystem: '/dev/sda', mount: '/', size: '10G', used: '9.8G', avail: '200M', usePercent: 98 }];
  const bad = verdict(base({ port: { host: 'app1', port: 5000, listening: false }, disk: { host: 'app1', disks, critPercent: 90 } }));
  assert.equal(bad.text, 'nothing listens on port 5000 on app1; disk / on app1 is 98% full');
  const good = verdict(base({
    container: { name: 'mitong-backend-1', info: container({ health: 'healthy' }), logTail: [] },
    port: { host: 'app1', port: 5000, listening: true },
    deps: [{ ...pgDown, tcp: { status: 'ok', from: 'app1' }, login: { ok: true } }],
  }));
  assert.equal(good.ok, true);
  assert.equal(good.status, 'ok');
  assert.equal(good.text, 'backend looks healthy: mitong-backend-1 running and healthy, port 5000 listening, postgres main reachable');
});

test('a missing container and a restart loop are named', () => {
  assert.match(verdict(base({ container: { name: 'mitong-backend-1', info: null, logTail: [] } })).text, /container mitong-backend-1 does not exist/);
  assert.match(verdict(base({ container: { name: 'x', info: container({ state: 'restarting', restartCount: 7 }), logTail: ['KeyError: SECRET'] } })).text, /keeps restarting \(7 restarts/);
});

test('likelyCause picks the last telling line and ignores noise', () => {
  assert.equal(likelyCause(['INFO ok', 'INFO still ok']), undefined);
  assert.equal(likelyCause(['ERROR first', 'INFO x', 'redis.exceptions.ConnectionError: Error 111 connecting']), 'Error 111 connecting');
});

test('a probe whose own session timed out is "could not check", never "unreachable"', () => {
  const slow = { status: 'unchecked' as const, from: 'app1', error: 'the SSH session timed out after 5 s' };
  const v = verdict(base({
    deps: [{ ...pgDown, login: { ok: true }, tcp: slow }, { kind: 'redis', name: 'cache', where: 'r:6379', login: { ok: true }, tcp: slow }],
    port: { host: 'app1', port: 5000, listening: null, error: 'the SSH session timed out after 5 s' },
  }));
  assert.equal(v.ok, false);
  assert.equal(v.status, 'warn');
  assert.equal(v.text, 'backend: no problem found, but could not check from app1 (TCP to postgres main, TCP to redis cache, port 5000): the SSH session timed out after 5 s');
  assert.doesNotMatch(v.text, /unreachable|nothing listens/);
  // With a real problem as well, the problem leads and the verdict is critical.
  const both = verdict(base({ deps: [{ ...pgDown, tcp: slow }] }));
  assert.equal(both.status, 'crit');
  assert.equal(both.text, 'postgres main is down (connect ECONNREFUSED 10.0.0.9:5432); could not check from app1 (TCP to postgres main): the SSH session timed out after 5 s');
});

test("probeOutcome: only the probe's own exit status speaks about the network", () => {
  const t = 'db:5432';
  assert.deepEqual(probe({ value: { code: 0, stderr: '' } }, t, 'app1', 5000), { status: 'ok' });
  assert.deepEqual(
    probe({ value: { code: 1, stderr: 'opsbot-probe: connect: Connection refused\nopsbot-probe: line 1: /dev/tcp/db/5432: Connection refused\n' } }, t, 'app1', 5000),
    { status: 'failed', error: 'cannot connect to db:5432: Connection refused' },
  );
  assert.deepEqual(probe({ value: { code: 124, stderr: '' } }, t, 'app1', 5000), { status: 'failed', error: 'no answer from db:5432 within 3 s' });
  // The session itself: timed out (ours or the host's own limit), or the host could not be reached.
  assert.deepEqual(probe({ error: 'timeout after 5 s', timedOut: {} }, t, 'app1', 5000), { status: 'unchecked', error: 'the SSH session timed out after 5 s' });
  assert.deepEqual(probe({ error: 'tcpProbe on app1 timed out after 2 s (killed)', timedOut: { ms: 2000 } }, t, 'app1', 2000), { status: 'unchecked', error: 'the SSH session timed out after 2 s' });
  assert.deepEqual(
    probe({ error: 'unreachable: no SSH handshake with 10.0.0.5:22 within 5 s' }, t, 'app1', 5000),
    { status: 'unchecked', error: 'unreachable: no SSH handshake with 10.0.0.5:22 within 5 s' },
  );
  assert.equal(probe({ value: { code: 127, stderr: 'bash: not found' } }, t, 'app1', 5000).status, 'unchecked');
  assert.equal(probe({ value: { code: null, stderr: '' } }, t, 'app1', 5000).status, 'unchecked');
});

test('the same facts read in Chinese for a Chinese reader, with the server\'s own error kept as it said it', () => {
  const facts = base({ deps: [pgDown], port: { host: 'app1', port: 5000, listening: false } });
  const v = verdictFor(facts, zh);
  assert.equal(v.text, [
    zh('diagnose:verdict.dep_down', { dep: 'postgres main', error: 'connect ECONNREFUSED 10.0.0.9:5432' }),
    zh('diagnose:verdict.no_listener', { port: 5000, host: 'app1' }),
  ].join(zh('diagnose:verdict.clause_separator')));
  assert.match(v.text, /ECONNREFUSED/);
  assert.doesNotMatch(v.text, /is down|nothing listens/);
  const slow = probeOutcome({ timedOut: { ms: 2000 } }, 'db:5432', 'app1', 5000);
  assert.equal(zh.text(slow.error!), 'SSH 会话在 2 秒后超时');
});
