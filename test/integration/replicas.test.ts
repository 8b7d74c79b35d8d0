/**
 * Two real bot processes on one PostgreSQL, behind one fake Slack: a card approved through the
 * other replica runs once; a replica killed mid-action leaves an interrupted card and a serving
 * peer; SIGTERM drains (readiness off, new work turned away, short work finished, long actions
 * marked interrupted, exit 0); the per-user rate limit and the sweep are shared.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startTarpit } from '../harness/tarpit.ts';
import { findButton, messageText, TOKEN, waitForMessage } from '../helpers/bot.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { startReplica, stopAllReplicas, type Replica } from '../helpers/replicas.ts';
import { scaled, scaledDuration, sleep, until } from '../helpers/wait.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const MGR2 = 'U0MGR2';
const TIMEOUT = scaled(180_000);

interface Pair {
  fake: FakeSlack;
  db: string;
  a: Replica;
  b: Replica;
}

/** A fresh state database, a fake Slack, and replicas A and B on them, both ready. */
async function pair(config: Record<string, unknown>): Promise<Pair> {
  const fake = await startFakeSlack({ token: TOKEN });
  const db = await (await sharedPostgres()).createDatabase();
  const opts = { databaseUrl: db, slackApiUrl: fake.url, config };
  // At once, as a deploy starts them: migrations of the empty database are serialised by their lock.
  const [a, b] = await Promise.all([startReplica({ name: 'A', ...opts }), startReplica({ name: 'B', ...opts })]);
  await Promise.all([a.ready(), b.ready()]);
  return { fake, db, a, b };
}

async function done(p: Pair | undefined): Promise<void> {
  await stopAllReplicas();
  await p?.fake.stop();
}

function approvalConfig(stack: Stack, extra: { stop_timeout?: string; approvals?: Record<string, unknown>; shutdown?: Record<string, unknown> } = {}) {
  return {
    ...stackConfig(stack, { stop_timeout: extra.stop_timeout }),
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], approver: [MGR, MGR2] },
    permissions: { restart: ['operator'] },
    approvals: { rules: { restart: { approvers: ['approver'], count: 1 } }, ...extra.approvals },
    ...(extra.shutdown && { shutdown: extra.shutdown }),
  };
}

async function query<T>(db: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** /restart <service> through `via`; returns the card as posted and the request id. */
async function requestRestart(p: Pair, via: Replica, service: string): Promise<{ card: FakeSlackCall; ts: string; id: string }> {
  const before = p.fake.calls.length;
  const ack = await via.command({ command: '/restart', text: service, user_id: OPER, channel_id: 'C0OPS', response_url: p.fake.responseUrl(`req-${service}`) });
  assert.equal(ack.status, 200);
  const card = await p.fake.waitFor((c) => p.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS' && !!findButton(c, 'approval.approve'), scaled(30_000));
  return { card, ts: card.result!.ts as string, id: findButton(card, 'approval.approve')!.value };
}

/** Clicks Approve on a card through `via`, and returns the clicker's private answer. */
async function approve(p: Pair, via: Replica, user: string, card: { ts: string; id: string }, responseId: string): Promise<string> {
  const res = await via.click({ user, channel: 'C0APPROVALS', ts: card.ts, actionId: 'approval.approve', value: card.id, responseUrl: p.fake.responseUrl(responseId) });
  assert.equal(res.status, 200);
  return String((await p.fake.waitFor((c) => c.method === 'response_url' && c.target === responseId, scaled(30_000))).args.text);
}

const outcomes = (db: string, id: string) =>
  query<{ outcome: string; n: number }>(db, "select outcome, count(*)::int as n from audit_events where args = $1 and outcome like 'approval.%' group by outcome order by outcome", [id])
    .then((rows) => Object.fromEntries(rows.map((r) => [r.outcome, r.n])));

describe('two replicas on one database', () => {
  test('a card posted through A and approved through B runs once, on B', { timeout: TIMEOUT }, async () => {
    const stack = await startStack();
    let p: Pair | undefined;
    try {
      p = await pair(approvalConfig(stack));
      const since = new Date().toISOString();
      const card = await requestRestart(p, p.a, 'worker');
      assert.match(await approve(p, p.b, MGR, card, 'approve-b'), /^Approved\. Running \/restart worker now\./);
      // A second approver, through A, finds it already decided: nothing more runs.
      assert.match(await approve(p, p.a, MGR2, card, 'approve-a'), /is already (approved|running|succeeded); nothing was done/);
      const text = await waitForMessage(p.fake, card.ts, /✅ Done/, scaled(60_000));
      assert.match(text, /approved by <@U0MGR>/);
      // Time for a second run to show, were there one.
      await sleep(scaled(3000));
      assert.equal(await stack.engine.countEvents(stack.name('worker'), 'start', since), 1, 'the container was started once');
      const [row] = await query<{ runner: string; state: string }>(p.db, 'select runner, state from approval_requests where id = $1', [card.id]);
      assert.equal(row.state, 'succeeded');
      assert.ok(row.runner.startsWith(`${p.b.pid}-`), `runner ${row.runner} is replica B (pid ${p.b.pid})`);
      assert.deepEqual(await outcomes(p.db, card.id), {
        'approval.approve_vote': 1, 'approval.approved': 1, 'approval.requested': 1, 'approval.started': 1, 'approval.succeeded': 1,
      });
    } finally {
      await done(p);
      await stack.engine.docker('rm', '-f', stack.name('backend'), stack.name('worker'), stack.name('nginx')).catch(() => {});
    }
  });

  test('A is killed mid-action: B\'s sweep marks the card interrupted, it is not re-run, and B keeps serving', { timeout: TIMEOUT }, async () => {
    const stack = await startStack();
    let p: Pair | undefined;
    try {
      // busybox sleep ignores SIGTERM, so the restart takes its whole 6 s stop timeout.
      p = await pair(approvalConfig(stack, { stop_timeout: '6s', approvals: { lease: scaledDuration(2000), sweep_interval: '300ms' } }));
      const since = new Date().toISOString();
      const card = await requestRestart(p, p.a, 'worker');
      await approve(p, p.a, MGR, card, 'approve-a');
      await waitForMessage(p.fake, card.ts, /🔄 Running: restarting/, scaled(30_000));
      assert.ok(p.a.signal('SIGKILL'));
      await p.a.exited;
      assert.equal(p.a.exitSignal(), 'SIGKILL');

      const text = await waitForMessage(p.fake, card.ts, /⚠️ Interrupted: the bot stopped while this was running\. It was not re-run/, scaled(30_000));
      assert.doesNotMatch(text, /Done/);
      const [row] = await query<{ state: string }>(p.db, 'select state from approval_requests where id = $1', [card.id]);
      assert.equal(row.state, 'interrupted');

      // B still answers its probes and its commands.
      assert.equal((await p.b.get('/readyz')).status, 200);
      const before = p.fake.calls.length;
      assert.equal((await p.b.command({ command: '/health', text: 'containers', user_id: OPER, channel_id: 'C0OPS', response_url: p.fake.responseUrl('health-b') })).status, 200);
      const fake = p.fake;
      const reply = await fake.waitFor((c) => fake.calls.indexOf(c) >= before && ((c.method === 'chat.postMessage' && c.args.channel === 'C0OPS') || c.target === 'health-b'), scaled(30_000));
      assert.match(messageText(reply), new RegExp(stack.name('worker')));

      // dockerd finishes the restart it was asked for; nobody asks for another.
      await sleep(scaled(8000));
      assert.equal(await stack.engine.countEvents(stack.name('worker'), 'start', since), 1);
      const seen = await outcomes(p.db, card.id);
      assert.equal(seen['approval.started'], 1);
      assert.equal(seen['approval.interrupted'], 1);
      assert.equal(seen['approval.succeeded'], undefined);
    } finally {
      await done(p);
      await stack.engine.docker('rm', '-f', stack.name('backend'), stack.name('worker'), stack.name('nginx')).catch(() => {});
    }
  });
});

describe('SIGTERM drains', () => {
  test('an action longer than the grace is marked interrupted on its card; /readyz is 503 while draining; new work is turned away; exit 0', { timeout: TIMEOUT }, async () => {
    const stack = await startStack();
    let p: Pair | undefined;
    try {
      const grace = scaled(4000);
      // The restart takes its whole 30 s stop timeout, far past the grace. B sweeps often with a
      // short lease: A's lease is still renewed while it drains, so B never takes it early.
      p = await pair(approvalConfig(stack, { stop_timeout: '30s', approvals: { lease: scaledDuration(2000), sweep_interval: '200ms' }, shutdown: { grace: `${grace}ms` } }));
      const card = await requestRestart(p, p.a, 'nginx');
      await approve(p, p.a, MGR, card, 'approve-a');
      await waitForMessage(p.fake, card.ts, /🔄 Running: restarting/, scaled(30_000));

      const termAt = Date.now();
      assert.ok(p.a.signal('SIGTERM'));
      const ready = await until('A /readyz while draining', scaled(5000), () => p!.a.get('/readyz'), (r) => r.status === 503);
      assert.match(ready.body, /draining/);
      assert.equal((await p.a.get('/healthz')).status, 200, 'alive while draining');
      // A command reaching A now is turned away, privately, and not run.
      assert.equal((await p.a.command({ command: '/health', text: 'containers', user_id: OPER, channel_id: 'C0OPS', response_url: p.fake.responseUrl('late') })).status, 200);
      const late = await p.fake.waitFor((c) => c.method === 'response_url' && c.target === 'late', scaled(10_000));
      assert.equal(late.args.response_type, 'ephemeral');
      assert.match(String(late.args.text), /This opsbot replica is shutting down, so \/health was not run\. Send it again in a moment/);
      // So is an Approve click.
      const other = await requestRestart(p, p.b, 'worker');
      assert.equal((await p.a.click({ user: MGR, channel: 'C0APPROVALS', ts: other.ts, actionId: 'approval.approve', value: other.id, responseUrl: p.fake.responseUrl('late-click') })).status, 200);
      assert.match(String((await p.fake.waitFor((c) => c.target === 'late-click', scaled(10_000))).args.text), /shutting down, so your click was not acted on/);

      const text = await waitForMessage(p.fake, card.ts, /⚠️ Interrupted: the bot replica running it shut down during "restarting/, scaled(30_000));
      assert.match(text, /that step may or may not have finished, and no later step ran/);
      assert.match(text, /Steps started before the shutdown:\n1\. restarting/);
      assert.equal(await p.a.exited, 0, `A exits 0; its output:\n${p.a.logs().slice(-3000)}`);
      assert.ok(Date.now() - termAt >= grace, 'the grace was waited for');

      const [row] = await query<{ state: string }>(p.db, 'select state from approval_requests where id = $1', [card.id]);
      assert.equal(row.state, 'interrupted');
      const seen = await outcomes(p.db, card.id);
      assert.equal(seen['approval.interrupted'], 1);
      assert.equal(seen['approval.succeeded'], undefined);
      // The refused click changed nothing: the other request still waits, and B can approve it.
      const [pending] = await query<{ state: string }>(p.db, 'select state from approval_requests where id = $1', [other.id]);
      assert.equal(pending.state, 'pending');
      // Nothing said the late /health ran.
      assert.equal((await query(p.db, "select 1 from audit_events where command = 'health'")).length, 0);
    } finally {
      await done(p);
      await stack.engine.docker('rm', '-f', stack.name('backend'), stack.name('worker'), stack.name('nginx')).catch(() => {});
    }
  });

  test('a command in flight at SIGTERM finishes and its reply is posted before the process exits 0', { timeout: TIMEOUT }, async () => {
    const tarpit = await startTarpit();
    let p: Pair | undefined;
    try {
      // Redis that never answers: /health takes its whole 3 s timeout, then reports.
      p = await pair({ targets: { local: false, redis: { cache: { url: tarpit.url('redis') } } }, health: { timeout: scaledDuration(3000) }, shutdown: { grace: scaledDuration(20_000) } });
      const before = p.fake.calls.length;
      const sent = Date.now();
      assert.equal((await p.a.command({ command: '/health', user_id: OPER, channel_id: 'C0OPS', response_url: p.fake.responseUrl('slow') })).status, 200);
      assert.ok(p.a.signal('SIGTERM'));
      assert.equal((await until('A /readyz', scaled(5000), () => p!.a.get('/readyz'), (r) => r.status === 503)).status, 503);
      const reply = await p.fake.waitFor((c) => p!.fake.calls.indexOf(c) >= before && ((c.method === 'chat.postMessage' && c.args.channel === 'C0OPS') || c.target === 'slow'), scaled(30_000));
      assert.match(messageText(reply), /cache/);
      const code = await p.a.exited;
      assert.equal(code, 0, `A exits 0; its output:\n${p.a.logs().slice(-3000)}`);
      assert.ok(reply.at <= Date.now() && reply.at - sent >= scaled(3000) * 0.9, 'the reply came after the check timed out');
      assert.doesNotMatch(p.a.logs(), /cut off/);
    } finally {
      await done(p);
      await tarpit.stop();
    }
  });
});

describe('shared state', () => {
  test('the per-user rate limit counts across both replicas', { timeout: TIMEOUT }, async () => {
    let p: Pair | undefined;
    try {
      p = await pair({ targets: { local: false }, rate_limit: { requests_per_minute: 4 } });
      const texts: string[] = [];
      // Alternating A, B, A, …: three each. Per replica that would be within 4 a minute.
      for (let i = 0; i < 6; i++) {
        const via: Replica = i % 2 ? p.b : p.a;
        const id = `rl${i}`;
        assert.equal((await via.command({ command: '/ops', text: 'help', user_id: 'U0BUSY', channel_id: 'C0OPS', response_url: p.fake.responseUrl(id) })).status, 200);
        texts.push(messageText(await p.fake.waitFor((c) => c.target === id, scaled(20_000))));
      }
      const limited = texts.map((t) => /sending commands too fast \(limit 4 a minute\)\. Try again in \d+ s/.test(t));
      assert.deepEqual(limited, [false, false, false, false, true, true], texts.join('\n---\n'));
      // Another user is not held back by U0BUSY.
      await p.b.command({ command: '/ops', text: 'help', user_id: 'U0CALM', channel_id: 'C0OPS', response_url: p.fake.responseUrl('calm') });
      assert.doesNotMatch(messageText(await p.fake.waitFor((c) => c.target === 'calm', scaled(20_000))), /too fast/);
    } finally {
      await done(p);
    }
  });

  test('an expired card is closed once, though both replicas sweep', { timeout: TIMEOUT }, async () => {
    const stack = await startStack();
    let p: Pair | undefined;
    try {
      p = await pair(approvalConfig(stack, { approvals: { ttl: scaledDuration(2000), sweep_interval: '100ms' } }));
      const cards = [await requestRestart(p, p.a, 'worker'), await requestRestart(p, p.b, 'nginx'), await requestRestart(p, p.a, 'backend')];
      for (const c of cards) await waitForMessage(p.fake, c.ts, /⌛ Expired/, scaled(30_000));
      // Both replicas keep sweeping: time for a second update, were there one.
      await sleep(scaled(2000));
      for (const c of cards) {
        const updates: FakeSlackCall[] = p.fake.calls.filter((x) => x.method === 'chat.update' && x.args.ts === c.ts);
        assert.equal(updates.filter((u) => /Expired/.test(messageText(u))).length, 1, `card ${c.id}: ${updates.length} updates`);
        assert.equal((await outcomes(p.db, c.id))['approval.expired'], 1);
      }
    } finally {
      await done(p);
      await stack.engine.docker('rm', '-f', stack.name('backend'), stack.name('worker'), stack.name('nginx')).catch(() => {});
    }
  });
});
