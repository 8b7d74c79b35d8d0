/**
 * The dispatcher's policy for subcommands as /db uses it: permission keys by dotted name, a
 * parent's entry covering read-only subcommands only, grants for commands that act at once, and
 * a destructive command whose arguments decide whether it needs votes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import type { ApprovalEngine } from '../../src/approvals/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { AuditLog } from '../../src/core/audit.ts';
import { defineCommand, permissionKey, ruleKey, type AnyCommand } from '../../src/core/define-command.ts';
import { Dispatcher, type Reply } from '../../src/core/dispatch.ts';
import { createLogger } from '../../src/core/log.ts';
import { createMetrics } from '../../src/core/metrics.ts';
import { Rbac } from '../../src/core/rbac.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { Targets } from '../../src/targets/types.ts';
import { sharedPostgres } from '../harness/postgres.ts';

const log = createLogger('silent');
let store: Store;

before(async () => {
  store = await openStore({ DATABASE_URL: await (await sharedPostgres()).createDatabase() });
});
after(async () => {
  await store?.close();
});

const plan = async () => ({ summary: 'plan', steps: [], risk: 'low' as const, target: {} });
const execute = async () => ({ title: 'done', status: 'ok' as const });
const show = defineCommand({ name: 'grp show', summary: 'x', usage: ['/grp show'], args: z.object({}), run: async () => ({ title: 'shown', status: 'info' }) });
const poke = defineCommand({ name: 'grp poke', summary: 'x', usage: ['/grp poke'], job: true, restricted: true, args: z.object({}), plan, execute });
const sweep = defineCommand({
  name: 'grp sweep', summary: 'x', usage: ['/grp sweep [--hard]'], args: z.object({ hard: z.boolean().default(false) }),
  destructive: (a) => a.hard, plan, execute,
});
const deep = defineCommand({ name: 'grp deep make', summary: 'x', usage: ['/grp deep make'], args: z.object({}), destructive: true, plan, execute });
const grp = defineCommand({
  name: 'grp', summary: 'x', usage: ['/grp'], args: z.object({}), run: async () => ({ title: 'grp', status: 'info' }),
  subcommands: { show, poke, sweep, deep: defineCommand({ name: 'grp deep', summary: 'x', usage: [], args: z.object({}), subcommands: { make: deep } }) },
});

function bot(config: Record<string, unknown>) {
  const cfg = parseConfig(config, 'test', {}, process.cwd(), ['grp', 'grp.show', 'grp.poke', 'grp.sweep', 'grp.deep', 'grp.deep.make']);
  const calls: string[] = [];
  const approvals = {
    async request(cmd: AnyCommand) {
      calls.push(`request ${cmd.name}`);
      return { title: cmd.name, status: 'info', summary: 'requested' };
    },
    async runJob(cmd: AnyCommand) {
      calls.push(`job ${cmd.name}`);
      return { title: cmd.name, status: 'info', summary: 'started' };
    },
    async actionableFor() {
      return [];
    },
  } as unknown as ApprovalEngine;
  const targets: Targets = { postgres: new Map(), redis: new Map(), hosts: new Map(), docker: new Map(), close: async () => {} };
  const d = new Dispatcher({ config: cfg, commands: [grp as AnyCommand], targets, audit: new AuditLog(store), rbac: new Rbac(cfg, undefined, log), log, metrics: createMetrics(), approvals });
  const run = async (text: string, user: string): Promise<Reply> => {
    const replies: Reply[] = [];
    await d.handle({ command: '/grp', text, user, channel: 'C0OPS' }, async (r) => {
      replies.push(r);
    });
    return replies[0];
  };
  return { run, calls };
}

const denied = (r: Reply) => /needs/.test(r.report.summary ?? '');

describe('subcommand policy', () => {
  test('keys are dotted names, at any depth', () => {
    assert.equal(permissionKey(sweep), 'grp.sweep');
    assert.equal(ruleKey(deep), 'grp.deep.make');
    assert.equal(permissionKey(deep), 'grp.deep.make');
  });

  test("a parent's entry covers its read-only subcommands, never those that act", async () => {
    const { run } = bot({ roles: { reader: ['U0READ'], actor: ['U0ACT'], admin: ['U0ADMIN'] }, permissions: { grp: ['reader'] } });
    assert.equal((await run('show', 'U0READ')).report.title, 'shown');
    assert.ok(denied(await run('show', 'U0OTHER')), 'the parent restricts its read-only subcommands');
    assert.ok(denied(await run('poke', 'U0READ')), 'a restricted job needs its own grant');
    assert.ok(denied(await run('sweep', 'U0READ')), 'so does a destructive one');
    assert.equal((await run('poke', 'U0ADMIN')).report.summary, 'started');
  });

  test('a destructive command whose arguments need no vote runs as a job; with them it asks for approval', async () => {
    const { run, calls } = bot({ roles: { actor: ['U0ACT'] }, permissions: { 'grp.sweep': ['actor'], 'grp.deep.make': ['actor'] } });
    await run('sweep', 'U0ACT');
    await run('sweep --hard', 'U0ACT');
    await run('deep make', 'U0ACT');
    assert.deepEqual(calls, ['job grp sweep', 'request grp sweep', 'request grp deep make']);
    assert.match((await run('sweep --dry-run', 'U0ACT')).report.summary ?? '', /Dry run/);
    assert.equal(calls.length, 3, 'a dry run starts nothing');
  });
});
