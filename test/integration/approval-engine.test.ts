/**
 * The approval engine against a real PostgreSQL, as two replicas sharing one state database:
 * concurrent votes, the database's clock, leases, and failures after the ack.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { parseConfig } from '../../src/config/load.ts';
import { ApprovalStore, type ApprovalRequest } from '../../src/approvals/store.ts';
import { ApprovalEngine, type CardSink } from '../../src/approvals/engine.ts';
import { defineCommand, type AnyCommand } from '../../src/core/define-command.ts';
import { createLogger } from '../../src/core/log.ts';
import { hashPlan, type Plan } from '../../src/approvals/plan.ts';
import { Rbac } from '../../src/core/rbac.ts';
import type { Report } from '../../src/core/report.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { Targets } from '../../src/targets/types.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { sleep, until } from '../helpers/wait.ts';

const log = createLogger('silent');
const targets: Targets = { postgres: new Map(), redis: new Map(), hosts: new Map(), docker: new Map(), close: async () => {} };
const REQUESTER = 'U0OPER';
const [M1, M2] = ['U0MGR1', 'U0MGR2'];

/** Every run of the test command, per request id: the side effect that must happen exactly once. */
const runs = new Map<string, number>();
/** Steps the slow command has started, per request id. */
const stepsStarted = new Map<string, string[]>();

const tick = defineCommand({
  name: 'tick',
  summary: 'Counts its runs',
  usage: ['/tick'],
  args: z.object({}),
  destructive: true,
  async plan() {
    return { summary: 'count one run', steps: ['count'], risk: 'low', target: {} };
  },
  async execute(ctx) {
    await ctx.progress('counting');
    runs.set(ctx.requestId, (runs.get(ctx.requestId) ?? 0) + 1);
    return { title: 'tick', status: 'ok', summary: 'counted' };
  },
});

/** Three steps of `stepMs` each, announced through progress(): long enough to need lease renewals. */
const slow = defineCommand({
  name: 'slow',
  summary: 'Takes a while',
  usage: ['/slow'],
  args: z.object({}),
  destructive: true,
  async plan() {
    return { summary: 'three slow steps', steps: ['one', 'two', 'three'], risk: 'low', target: { stepMs: 700 } };
  },
  async execute(ctx, plan) {
    for (const step of ['one', 'two', 'three']) {
      await ctx.progress(`step ${step}`);
      stepsStarted.set(ctx.requestId, [...(stepsStarted.get(ctx.requestId) ?? []), step]);
      await sleep(Number(plan.target.stepMs));
    }
    return { title: 'slow', status: 'ok', summary: 'all three steps done' };
  },
});

const COMMANDS: AnyCommand[] = [tick, slow];

/** Cards kept in memory: the engine's only view of Slack. */
class MemoryCards implements CardSink {
  readonly cards = new Map<string, Report>();
  private n = 0;
  async post(channel: string, report: Report) {
    const ts = `${++this.n}.000`;
    this.cards.set(ts, report);
    return { channel, ts };
  }
  async update(_channel: string, ts: string, report: Report) {
    this.cards.set(ts, report);
  }
}

function config(extra: Record<string, unknown> = {}) {
  return parseConfig({
    roles: { operator: [REQUESTER], approver: [M1, M2] },
    permissions: { tick: ['operator'], slow: ['operator'] },
    approvals: { rules: { tick: { approvers: ['approver'], count: 2 }, slow: { approvers: ['approver'], count: 1 } }, ...extra },
  }, 'test', {}, process.cwd(), ['tick', 'slow']);
}

let url: string;
const stores: Store[] = [];

async function replica(extra: Record<string, unknown> = {}, wrap?: (s: ApprovalStore) => ApprovalStore) {
  const store = await openStore({ DATABASE_URL: url });
  stores.push(store);
  const cfg = config(extra);
  const cards = new MemoryCards();
  const approvalStore = wrap ? wrap(new ApprovalStore(store)) : new ApprovalStore(store);
  const engine = new ApprovalEngine({ store: approvalStore, config: cfg, rbac: new Rbac(cfg, undefined, log), cards, commands: COMMANDS, targets, log });
  return { store, approvalStore, engine, cards };
}

async function requestOf(engine: ApprovalEngine, cmd: AnyCommand): Promise<string> {
  const plan = await cmd.plan!({} as never);
  const reply = await engine.request(cmd, { user: REQUESTER, channel: 'C0OPS', argsText: '', plan });
  const id = /\((r-\d+)\)/.exec(reply.summary ?? '')?.[1];
  assert.ok(id, `no request id in ${reply.summary}`);
  return id;
}

before(async () => {
  url = await (await sharedPostgres()).createDatabase();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

describe('votes with count 2, two approvers clicking at once on two replicas', () => {
  test('200 requests: each is approved and run exactly once, none stays pending', { timeout: 120_000 }, async () => {
    const a = await replica();
    const b = await replica();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await requestOf(a.engine, tick));
    assert.equal(new Set(ids).size, 200, 'request ids are unique');

    const answers = await Promise.all(ids.map((id) => Promise.all([a.engine.approve(id, M1), b.engine.approve(id, M2)])));
    await Promise.all([a.engine.idle(), b.engine.idle()]);

    for (const [i, pair] of answers.entries()) {
      const approved = pair.filter((t) => t.startsWith('Approved. Running /tick'));
      const recorded = pair.filter((t) => t === 'Approval recorded; 1 more needed from a different approver.');
      assert.equal(approved.length, 1, `${ids[i]}: exactly one click approves: ${JSON.stringify(pair)}`);
      assert.equal(recorded.length, 1, `${ids[i]}: the other is told one more is needed: ${JSON.stringify(pair)}`);
    }
    const states = await a.store.query<{ state: string; n: number }>(
      `select state, count(*)::int n from approval_requests where command = 'tick' and id = any($1) group by state`, [ids]);
    assert.deepEqual(states, [{ state: 'succeeded', n: 200 }]);
    for (const id of ids) assert.equal(runs.get(id), 1, `${id} ran ${runs.get(id) ?? 0} times`);
    const started = await a.store.query<{ n: number }>(`select count(*)::int n from audit_events where outcome = 'approval.started' and args = any($1)`, [ids]);
    assert.equal(started[0].n, 200);
  });

  test('a repeated click by one approver never counts twice', async () => {
    const a = await replica();
    const id = await requestOf(a.engine, tick);
    const first = await Promise.all(Array.from({ length: 10 }, () => a.engine.approve(id, M1)));
    assert.equal(first.filter((t) => t.startsWith('Approval recorded; 1 more needed')).length, 1);
    assert.equal(first.filter((t) => t.startsWith('You have already approved this; 1 more needed')).length, 9);
    assert.equal((await a.approvalStore.get(id))!.state, 'pending');
    assert.match(await a.engine.approve(id, M2), /^Approved\. Running/);
    await a.engine.idle();
    assert.equal(runs.get(id), 1);
  });
});

describe('one clock: the database decides expiry', () => {
  test("a request the database still holds open is approved even when the bot's clock runs ahead", async () => {
    const a = await replica({ rules: { tick: { approvers: ['approver'], count: 1 } } });
    const id = await requestOf(a.engine, tick);
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000; // the bot's clock an hour fast
    try {
      assert.match(await a.engine.approve(id, M1), /^Approved\. Running/);
    } finally {
      Date.now = realNow;
    }
    await a.engine.idle();
    assert.equal(runs.get(id), 1);
  });

  test('a request past its expiry by the database is refused and closed, whatever the bot clock says', async () => {
    const a = await replica();
    const id = await requestOf(a.engine, tick);
    await a.store.query(`update approval_requests set expires_at = now() - interval '1 second' where id = $1`, [id]);
    const realNow = Date.now;
    Date.now = () => realNow() - 3_600_000; // the bot's clock an hour slow
    try {
      assert.match(await a.engine.approve(id, M1), new RegExp(`Request ${id} has expired; nothing was done`));
    } finally {
      Date.now = realNow;
    }
    assert.equal((await a.approvalStore.get(id))!.state, 'expired');
    assert.equal(runs.get(id), undefined);
  });
});

describe('leases', () => {
  test('a long run renews its lease: a sweeper never interrupts a live runner', { timeout: 30_000 }, async () => {
    // lease 600 ms, three steps of 700 ms: without renewals the sweep would interrupt it.
    const a = await replica({ lease: '600ms', sweep_interval: '100ms' });
    await a.engine.start();
    try {
      const id = await requestOf(a.engine, slow);
      assert.match(await a.engine.approve(id, M1), /^Approved/);
      await a.engine.idle();
      const r = (await a.approvalStore.get(id))!;
      assert.equal(r.state, 'succeeded', JSON.stringify(r.result));
      assert.deepEqual(stepsStarted.get(id), ['one', 'two', 'three']);
    } finally {
      await a.engine.stop();
    }
  });

  test('a runner that lost its lease stops before its next step, and the card says what ran', { timeout: 30_000 }, async () => {
    const a = await replica({ lease: '600ms' });
    const b = await replica({ lease: '600ms', sweep_interval: '100ms' });
    const id = await requestOf(a.engine, slow);
    assert.match(await a.engine.approve(id, M1), /^Approved/);
    await until('step one', 5000, async () => stepsStarted.get(id) ?? [], (s) => s.length >= 1, 20);
    // Another replica judges the runner dead (as after a long pause) and marks the request
    // interrupted. A renewal can land between the two statements, so repeat until the sweep wins.
    await until('the sweep interrupts it', 5000, async () => {
      await a.store.query(`update approval_requests set lease_until = now() - interval '1 second' where id = $1 and state = 'running'`, [id]);
      await b.engine.sweep();
      return (await a.approvalStore.get(id))!.state;
    }, (state) => state === 'interrupted', 10);
    await a.engine.idle();
    assert.deepEqual(stepsStarted.get(id), ['one'], 'no step starts after the lease is lost');
    const r = (await a.approvalStore.get(id))!;
    assert.equal(r.state, 'interrupted');
    assert.match(r.result?.summary ?? '', /lost its lease and stopped before "step two"; 1 step had run/);
    assert.deepEqual(r.result?.lines, ['Steps that ran before the lease was lost:', '1. step one']);
    const card = a.cards.cards.get(r.card_ts!)!;
    assert.match(card.summary ?? '', /⚠️ Interrupted: this runner lost its lease and stopped before "step two"/);
    assert.doesNotMatch(card.summary ?? '', /not re-run/);
    const outcomes = await a.store.query<{ outcome: string }>(`select outcome from audit_events where args = $1 and outcome like 'approval.%' order by id`, [id]);
    assert.deepEqual(outcomes.map((o) => o.outcome).slice(-2), ['approval.interrupted', 'approval.lost_lease']);
  });
});

describe('nothing after the ack crashes the bot', () => {
  test('a state-store error at the end of a run is logged, not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      let broken = false;
      const a = await replica({ rules: { tick: { approvers: ['approver'], count: 1 } } }, (s) => {
        // After the command ran, every read and the final transition fail, as with a dead database.
        const fail = async () => {
          if (broken) throw new Error('connection terminated unexpectedly');
        };
        const finish = s.finish.bind(s);
        const get = s.get.bind(s);
        s.finish = async (...args) => (await fail(), finish(...args));
        s.get = async (...args) => (await fail(), get(...args));
        return s;
      });
      const id = await requestOf(a.engine, tick);
      const before = runs.get(id) ?? 0;
      const origRun = tick.execute!;
      tick.execute = async (ctx, plan: Plan) => {
        const report = await origRun(ctx, plan);
        broken = true;
        return report;
      };
      try {
        assert.match(await a.engine.approve(id, M1), /^Approved/);
        await a.engine.idle();
      } finally {
        tick.execute = origRun;
      }
      await sleep(100);
      assert.equal(runs.get(id), before + 1);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

test('request ids never collide and read as r-<number>', async () => {
  const a = await replica();
  const ids = await Promise.all(Array.from({ length: 50 }, () => requestOf(a.engine, tick)));
  assert.equal(new Set(ids).size, 50);
  for (const id of ids) assert.match(id, /^r-\d+$/);
});

test('a plan changed after approval is refused: its hash no longer matches', async () => {
  const a = await replica({ rules: { tick: { approvers: ['approver'], count: 1 } } });
  const id = await requestOf(a.engine, tick);
  const req = (await a.approvalStore.get(id)) as ApprovalRequest;
  assert.equal(req.plan_hash, hashPlan(req.plan));
  await a.store.query(`update approval_requests set plan = jsonb_set(plan, '{summary}', '"count two runs"') where id = $1`, [id]);
  assert.match(await a.engine.approve(id, M1), /^Approved/);
  await a.engine.idle();
  const done = (await a.approvalStore.get(id))!;
  assert.equal(done.state, 'failed');
  assert.match(done.result?.summary ?? '', /the stored plan does not match its hash; nothing ran/);
  assert.equal(runs.get(id), undefined);
});

test('write-ahead audit: when the audit row of a step cannot be written, the step does not run', async () => {
  const a = await replica({ rules: { tick: { approvers: ['approver'], count: 1 } } });
  const id = await requestOf(a.engine, tick);
  // The database refuses exactly the audit row that the start of the run writes.
  await a.store.exec(`
    create function refuse_start_audit() returns trigger language plpgsql as $$
    begin
      if new.outcome = 'approval.started' and new.args = current_setting('opsbot_test.refuse_id', true) then
        raise exception 'audit table is full';
      end if;
      return new;
    end $$;
    create trigger refuse_start_audit before insert on audit_events for each row execute function refuse_start_audit();
  `);
  await a.store.exec(`alter database ${JSON.stringify(new URL(url).pathname.slice(1))} set opsbot_test.refuse_id = '${id}'`);
  const b = await replica({ rules: { tick: { approvers: ['approver'], count: 1 } } }); // new sessions see the setting
  try {
    assert.match(await b.engine.approve(id, M1), /^Approved/);
    await b.engine.idle();
    assert.equal(runs.get(id), undefined, 'the command ran without its audit row');
    const r = (await b.approvalStore.get(id))!;
    assert.equal(r.state, 'approved', 'the claim was rolled back with its audit row');
    const rows = await b.store.query<{ n: number }>(`select count(*)::int n from audit_events where args = $1 and outcome = 'approval.started'`, [id]);
    assert.equal(rows[0].n, 0);
  } finally {
    await a.store.exec('drop trigger refuse_start_audit on audit_events; drop function refuse_start_audit()');
  }
});
