import assert from 'node:assert/strict';
import { test } from 'node:test';
import { likelyCause, verdict, type DiagnoseFacts } from '../../src/diagnose/verdict.ts';
import type { ContainerInfo } from '../../src/targets/types.ts';

const container = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'abc', name: 'mitong-backend-1', image: 'img', state: 'running', restartCount: 0,
  startedAt: new Date(), finishedAt: null, exitCode: null, command: ['python', 'app.py'], ...over,
});
const base = (over: Partial<DiagnoseFacts> = {}): DiagnoseFacts => ({ service: 'backend', deps: [], ...over });
const pgDown = { kind: 'postgres' as const, name: 'main', where: 'db:5432', tcp: { ok: false, from: 'app1', error: 'ECONNREFUSED' }, login: { ok: false, error: 'connect ECONNREFUSED 10.0.0.9:5432' } };

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
    deps: [{ ...pgDown, tcp: { ok: true, from: 'app1' }, login: { ok: true } }],
  }));
  assert.equal(good.ok, true);
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
