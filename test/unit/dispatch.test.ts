import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ApprovalEngine } from '../../src/approvals/engine.ts';
import { defineCommand, type AnyCommand } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { parseConfig } from '../../src/config/load.ts';
import { AuditLog, type AuditRow } from '../../src/core/audit.ts';
import { Dispatcher, type Reply } from '../../src/core/dispatch.ts';
import { escapeMrkdwn } from '../../src/slack/render.ts';
import { createLogger } from '../../src/core/log.ts';
import { createMetrics, type Metrics } from '../../src/core/metrics.ts';
import { Rbac, type GroupResolver } from '../../src/core/rbac.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { Targets } from '../../src/targets/types.ts';
import { sharedPostgres, stopSharedPostgres } from '../harness/postgres.ts';
import { ALL, CONFIG, echo, nuke, okGroups, restart, runs } from './dispatch-commands.ts';

let store: Store;
let audit: AuditLog;
const log = createLogger('silent');

before(async () => {
  const url = await (await sharedPostgres()).createDatabase();
  store = await openStore({ DATABASE_URL: url });
  audit = new AuditLog(store);
});
after(async () => {
  await store?.close();
  await stopSharedPostgres();
});

function makeBot(opts: { config?: Record<string, unknown>; resolver?: GroupResolver } = {}) {
  const config = parseConfig(opts.config ?? CONFIG, 'test');
  const metrics = createMetrics();
  const targets: Targets = { postgres: new Map(), redis: new Map(), hosts: new Map(), docker: new Map(), close: async () => {} };
  const d = new Dispatcher({ config, commands: ALL, targets, audit, rbac: new Rbac(config, opts.resolver ?? okGroups, log), log, metrics });
  async function run(command: string, text: string, user: string, channel = 'C0OPS'): Promise<Reply> {
    const replies: Reply[] = [];
    await d.handle({ command, text, user, channel }, async (r) => {
      replies.push(r);
    });
    assert.equal(replies.length, 1, 'exactly one reply per invocation');
    return replies[0];
  }
  return { d, metrics, run };
}

async function rowsOf(actor: string): Promise<AuditRow[]> {
  return audit.recent({ actor, limit: 500 });
}

/** opsbot_commands_total as { "command/outcome": value }. */
async function commandCounts(metrics: Metrics): Promise<Record<string, number>> {
  const text = await metrics.registry.getSingleMetricAsString('opsbot_commands_total');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^opsbot_commands_total\{(.*)\} (\d+(?:\.\d+)?)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    out[`${labels.command}/${labels.outcome}`] = Number(m[2]);
  }
  return out;
}

describe('argument and command errors', () => {
  test('a UserError from parsing is shown privately with usage and a suggestion, and run() is skipped', async () => {
    const { run } = makeBot();
    const before = runs.get('echo') ?? 0;
    const r = await run('/echo', 'backnd', 'U0ARGS');
    assert.equal(r.ephemeral, true);
    assert.equal(r.report.status, 'crit');
    assert.match(r.report.summary ?? '', /backnd/);
    assert.match(r.report.summary ?? '', /Did you mean backend\?/);
    const usage = r.report.sections?.find((s) => /usage/i.test(s.title));
    assert.deepEqual(usage?.lines, echo.usage);
    assert.equal(runs.get('echo') ?? 0, before);
    const [row] = await rowsOf('U0ARGS');
    assert.equal(row.outcome, 'invalid');
  });

  test('a UserError thrown by the command itself is shown verbatim', async () => {
    const { run } = makeBot();
    const r = await run('boom', '--how user', 'U0ARGS2');
    assert.equal(r.ephemeral, true);
    assert.match(r.report.summary ?? '', /^Nothing to do here\./);
    assert.deepEqual(r.report.sections?.[0]?.lines, ['/boom --how user']);
    assert.equal((await rowsOf('U0ARGS2'))[0].outcome, 'invalid');
  });

  test('an unknown command suggests the closest one', async () => {
    const { run } = makeBot();
    const r = await run('/ehco', '', 'U0UNKNOWN');
    assert.equal(r.ephemeral, true);
    assert.match(r.report.summary ?? '', /\/ehco/);
    assert.match(r.report.summary ?? '', /Did you mean \/echo\?/);
    const far = await run('/kubernetes', '', 'U0UNKNOWN');
    assert.doesNotMatch(far.report.summary ?? '', /Did you mean/);
    assert.deepEqual((await rowsOf('U0UNKNOWN')).map((x) => [x.command, x.outcome]), [['kubernetes', 'invalid'], ['ehco', 'invalid']]);
  });

  test('the command name works with or without the slash, and the context carries parsed args', async () => {
    const { run } = makeBot();
    const a = await run('/echo', 'celery --lines 7', 'U0CTX', 'C0SOMEWHERE');
    const b = await run('echo', 'backend', 'U0CTX');
    assert.equal(a.report.summary, 'celery 7 by U0CTX in C0SOMEWHERE');
    assert.equal(b.report.summary, 'backend 10 by U0CTX in C0OPS');
    assert.equal(a.ephemeral, false, 'commands reply to the channel by default');
  });

  test('visibility: ephemeral commands reply privately even on success', async () => {
    const { run } = makeBot();
    const r = await run('/warnme', '', 'U0VIS');
    assert.equal(r.ephemeral, true);
    assert.equal((await rowsOf('U0VIS'))[0].outcome, 'warn');
  });
});

describe('internal errors', () => {
  test('any other error becomes "Internal error (ref …)", the ref is audited, details are not shown', async () => {
    const { run } = makeBot();
    const r = await run('/boom', '', 'U0BOOM');
    assert.equal(r.ephemeral, true);
    const m = /Internal error \(ref ([0-9a-f]{8})\)/.exec(r.report.summary ?? '');
    assert.ok(m, `summary: ${r.report.summary}`);
    const shown = JSON.stringify(r.report);
    assert.ok(!shown.includes('ECONNREFUSED') && !shown.includes('hunter2'), shown);
    const [row] = await rowsOf('U0BOOM');
    assert.equal(row.outcome, 'error');
    assert.equal(row.ref, m[1]);
  });

  test('a thrown non-Error is an internal error too, each with its own ref', async () => {
    const { run } = makeBot();
    const a = await run('/boom', '--how string', 'U0BOOM2');
    const b = await run('/boom', '', 'U0BOOM2');
    const refs = [a, b].map((r) => /ref ([0-9a-f]{8})/.exec(r.report.summary ?? '')?.[1]);
    assert.ok(refs[0] && refs[1], JSON.stringify(refs));
    assert.notEqual(refs[0], refs[1]);
    assert.deepEqual((await rowsOf('U0BOOM2')).map((x) => x.ref), [refs[1], refs[0]]);
  });
});

describe('roles and channels', () => {
  test('a user listed directly under the role may run a restricted command', async () => {
    const { run } = makeBot();
    const r = await run('/tail', '', 'U0OP');
    assert.equal(r.report.title, 'tailed');
  });

  test('a member of a user group listed under the role may run it', async () => {
    const { run } = makeBot();
    const r = await run('/tail', '', 'U0GROUPIE');
    assert.equal(r.report.title, 'tailed');
  });

  test('anyone else is denied privately, told the role, and run() is skipped', async () => {
    const { run } = makeBot();
    const before = runs.get('tail') ?? 0;
    const r = await run('/tail', '', 'U0STRANGER');
    assert.equal(r.ephemeral, true);
    assert.match(r.report.summary ?? '', /operator/);
    assert.equal(runs.get('tail') ?? 0, before);
    assert.equal((await rowsOf('U0STRANGER'))[0].outcome, 'denied');
  });

  test('a failing group lookup grants nothing', async () => {
    const { run } = makeBot({ resolver: async () => { throw new Error('usergroups.users.list: ratelimited'); } });
    const r = await run('/tail', '', 'U0GROUPIE');
    assert.match(r.report.summary ?? '', /operator/);
    assert.equal((await rowsOf('U0GROUPIE'))[0].outcome, 'denied');
    const direct = await run('/tail', '', 'U0OP');
    assert.equal(direct.report.title, 'tailed', 'directly listed users are unaffected');
  });

  test('a failed group lookup is not cached: the next command asks again', async () => {
    let calls = 0;
    const { run } = makeBot({
      resolver: async (g) => {
        calls++;
        if (calls === 1) throw new Error('temporary failure');
        return g === 'S0ONCALL' ? ['U0GROUPIE'] : [];
      },
    });
    assert.match((await run('/tail', '', 'U0GROUPIE')).report.summary ?? '', /operator/);
    assert.equal((await run('/tail', '', 'U0GROUPIE')).report.title, 'tailed');
    assert.equal(calls, 2);
  });

  test('a channel-restricted command names the channels where it may be used', async () => {
    const { run } = makeBot();
    const wrong = await run('/warroom', '', 'U0CHAN', 'C0OPS');
    assert.equal(wrong.ephemeral, true);
    // The bot's own channel mention: rendered live for Slack, so it is a mention token here.
    assert.ok(escapeMrkdwn(wrong.report.summary ?? '').includes('<#C0WAR>'), wrong.report.summary);
    const right = await run('/warroom', '', 'U0CHAN', 'C0WAR');
    assert.equal(right.report.title, 'warroom');
    assert.deepEqual((await rowsOf('U0CHAN')).map((x) => x.outcome), ['ok', 'denied']);
  });

  test('a destructive command without a permission entry is for admins only', async () => {
    // /nuke with a plan, and an approval engine that records what it is asked to approve: the
    // admin's /nuke must get as far as its plan, the operator's must not even compute one.
    const planned: string[] = [];
    const requested: Array<{ command: string; user: string; plan: Plan }> = [];
    const plannedNuke = defineCommand({
      name: 'nuke',
      summary: nuke.summary,
      usage: nuke.usage,
      args: z.object({}),
      destructive: true,
      async plan(ctx) {
        planned.push(ctx.user);
        return { summary: 'remove every container of mitong on docker:local', steps: ['stop mitong-backend-1', 'remove mitong-backend-1'], risk: 'high', target: { project: 'mitong' } };
      },
      async execute() {
        return { title: 'nuked', status: 'ok' };
      },
    });
    const approvals = {
      async request(cmd: AnyCommand, p: { user: string; plan: Plan }) {
        requested.push({ command: cmd.name, user: p.user, plan: p.plan });
        return { title: `/${cmd.name}`, status: 'info', summary: 'Waiting for approval' };
      },
      async actionableFor() {
        return [];
      },
    } as unknown as ApprovalEngine;
    const config = parseConfig(CONFIG, 'test');
    const targets: Targets = { postgres: new Map(), redis: new Map(), hosts: new Map(), docker: new Map(), close: async () => {} };
    const d = new Dispatcher({
      config, commands: ALL.map((c) => (c.name === 'nuke' ? plannedNuke : c)), targets, audit,
      rbac: new Rbac(config, okGroups, log), log, metrics: createMetrics(), approvals,
    });
    const run = async (text: string, user: string): Promise<Reply> => {
      const replies: Reply[] = [];
      await d.handle({ command: '/nuke', text, user, channel: 'C0OPS' }, async (r) => {
        replies.push(r);
      });
      assert.equal(replies.length, 1);
      return replies[0];
    };

    const op = await run('', 'U0OP');
    assert.equal(op.ephemeral, true);
    assert.match(op.report.summary ?? '', /admin/);
    assert.equal((await rowsOf('U0OP'))[0].outcome, 'denied');
    assert.equal(planned.length, 0, 'no plan is computed for a caller who may not run it');
    assert.deepEqual(await d.authorize(nuke, 'U0ADMIN', 'C0OPS'), { ok: true });

    const dry = await run('--dry-run', 'U0ADMIN');
    assert.equal(dry.report.summary, 'Dry run: this is the plan. Nothing was changed.');
    assert.deepEqual(dry.report.sections?.find((s) => s.title === 'Plan')?.lines,
      ['remove every container of mitong on docker:local', '1. stop mitong-backend-1', '2. remove mitong-backend-1']);
    assert.equal(requested.length, 0, 'a dry run asks nobody');

    const real = await run('', 'U0ADMIN');
    assert.equal(real.report.summary, 'Waiting for approval');
    assert.deepEqual(planned, ['U0ADMIN', 'U0ADMIN']);
    assert.deepEqual(requested.map((r) => [r.command, r.user, r.plan.summary, r.plan.target]),
      [['nuke', 'U0ADMIN', 'remove every container of mitong on docker:local', { project: 'mitong' }]]);
    assert.deepEqual((await rowsOf('U0ADMIN')).slice(0, 2).map((r) => [r.command, r.outcome]), [['nuke', 'ok'], ['nuke', 'ok']]);
  });

  test('a destructive command with a permission entry is granted by that role only', async () => {
    const { d, run } = makeBot();
    assert.deepEqual(await d.authorize(restart, 'U0OP', 'C0OPS'), { ok: true });
    assert.deepEqual(await d.authorize(restart, 'U0GROUPIE', 'C0OPS'), { ok: true });
    const stranger = await run('/restart', '', 'U0STRANGER2');
    assert.match(stranger.report.summary ?? '', /operator/);
    assert.equal((await rowsOf('U0STRANGER2'))[0].outcome, 'denied');
  });

  test('allowedFor() lists only what the user may run in that channel', async () => {
    const { d } = makeBot();
    const names = async (user: string, channel: string) => (await d.allowedFor(user, channel)).map((c) => c.name).sort();
    assert.deepEqual(await names('U0NOBODY', 'C0OPS'), ['boom', 'echo', 'warnme', 'whoami']);
    assert.deepEqual(await names('U0OP', 'C0OPS'), ['boom', 'echo', 'restart', 'tail', 'warnme', 'whoami']);
    assert.deepEqual(await names('U0OP', 'C0WAR'), ['boom', 'echo', 'restart', 'tail', 'warnme', 'warroom', 'whoami']);
    assert.deepEqual(await names('U0ADMIN', 'C0OPS'), ['boom', 'echo', 'nuke', 'restart', 'tail', 'warnme', 'whoami']);
  });

  test('commands see the same list through ctx.allowedCommands()', async () => {
    const { run } = makeBot();
    const r = await run('/whoami', '', 'U0NOBODY', 'C0WAR');
    assert.deepEqual((r.report.summary ?? '').split(',').sort(), ['boom', 'echo', 'warnme', 'warroom', 'whoami']);
  });
});

describe('rate limit', () => {
  test('the request over the per-minute limit is refused privately and audited as rate_limited', async () => {
    const { run, metrics } = makeBot({ config: { ...CONFIG, rate_limit: { requests_per_minute: 3 } } });
    for (let i = 0; i < 3; i++) assert.equal((await run('/echo', 'backend', 'U0FAST')).report.title, 'echo', `request ${i + 1}`);
    const before = runs.get('echo') ?? 0;
    const refused = await run('/echo', 'backend', 'U0FAST');
    assert.equal(refused.ephemeral, true);
    assert.match(refused.report.summary ?? '', /too fast/);
    assert.match(refused.report.summary ?? '', /\b3\b/, 'names the limit');
    assert.equal(runs.get('echo') ?? 0, before, 'the command did not run');
    assert.deepEqual((await rowsOf('U0FAST')).map((x) => x.outcome), ['rate_limited', 'ok', 'ok', 'ok']);
    assert.equal((await run('/echo', 'backend', 'U0SLOW')).report.title, 'echo', 'other users are unaffected');
    assert.equal((await commandCounts(metrics))['echo/rate_limited'], 1);
  });

  test('enabled: false turns the limit off', async () => {
    const { run } = makeBot({ config: { ...CONFIG, rate_limit: { enabled: false, requests_per_minute: 1 } } });
    for (let i = 0; i < 4; i++) assert.equal((await run('/echo', 'backend', 'U0NOLIMIT')).report.title, 'echo', `request ${i + 1}`);
  });
});

describe('audit and metrics', () => {
  test('every invocation writes exactly one audit row with its outcome, args redacted', async () => {
    const { run } = makeBot();
    const user = 'U0AUDIT';
    const seq: Array<[string, string, string]> = [
      ['/echo', 'backend', 'ok'],
      ['/echo', 'nope', 'invalid'],
      ['/tail', '', 'denied'],
      ['/boom', '', 'error'],
      ['/warnme', '', 'warn'],
      ['/echo', 'celery --lines 2 postgres://ops:s3cret@db/x', 'invalid'],
    ];
    for (const [cmd, text] of seq) await run(cmd, text, user, 'C0AUD');
    const rows = await rowsOf(user);
    assert.equal(rows.length, seq.length);
    assert.deepEqual(rows.map((x) => [x.command, x.outcome]).reverse(), seq.map(([c, , o]) => [c.slice(1), o]));
    for (const row of rows) {
      assert.equal(row.actor, user);
      assert.equal(row.channel, 'C0AUD');
    }
    assert.equal(rows[rows.length - 1].args, 'backend');
    assert.ok(!rows[0].args.includes('s3cret'), rows[0].args);
    assert.match(rows[0].args, /celery --lines 2/);
  });

  test('opsbot_commands_total counts each command by outcome', async () => {
    const { run, metrics } = makeBot();
    await run('/echo', 'backend', 'U0MET');
    await run('/echo', 'celery', 'U0MET');
    await run('/echo', 'bad', 'U0MET');
    await run('/tail', '', 'U0MET');
    await run('/boom', '', 'U0MET');
    await run('/warnme', '', 'U0MET');
    assert.deepEqual(await commandCounts(metrics), {
      'echo/ok': 2,
      'echo/invalid': 1,
      'tail/denied': 1,
      'boom/error': 1,
      'warnme/warn': 1,
    });
  });

  test('a failing reply or audit write never makes handle() throw', async () => {
    const config = parseConfig(CONFIG, 'test');
    const broken = new AuditLog({ query: async () => { throw new Error('disk full'); }, exec: async () => {} });
    const targets: Targets = { postgres: new Map(), redis: new Map(), hosts: new Map(), docker: new Map(), close: async () => {} };
    const d = new Dispatcher({ config, commands: ALL, targets, audit: broken, rbac: new Rbac(config, okGroups, log), log, metrics: createMetrics() });
    await d.handle({ command: '/echo', text: 'backend', user: 'U0X', channel: 'C0OPS' }, async () => {
      throw new Error('response_url expired');
    });
    let sent: Reply | undefined;
    await d.handle({ command: '/echo', text: 'backend', user: 'U0X', channel: 'C0OPS' }, async (r) => {
      sent = r;
    });
    assert.equal(sent?.report.title, 'echo', 'the reply goes out even when the audit write fails');
    await d.idle();
  });
});
