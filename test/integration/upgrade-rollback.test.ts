/**
 * /upgrade that fails and undoes itself, against a real dockerd: a v2 whose healthcheck always
 * fails, and a v3 that is healthy by Docker's account but fails the smoke check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { query } from '../helpers/sql.ts';
import { scaled, scaledDuration } from '../helpers/wait.ts';
import { configSchema } from '../../src/config/schema.ts';
import { translator } from '../../src/i18n/index.ts';
import { whereSwitchIs } from '../../src/upgrade/where.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const TIMEOUT = scaled(240_000);

let stack: UpgradeStack;
let t: TestBot;

before(async () => {
  stack = await startUpgradeStack([{ tag: 'v1', healthy: true }, { tag: 'v2', healthy: false }, { tag: 'v3', healthy: true, body: 'error v3' }]);
  const liveUrl = await (await sharedPostgres()).createDatabase();
  await pgbenchInit(liveUrl, 1);
  t = await startTestBot({
    targets: { local: true, docker: { local: { socket: stack.engine.socketPath, project: stack.project } }, postgres: { main: { url: liveUrl } } },
    services: { backend: { docker: 'local', container: stack.container, stop_timeout: '1s', ready_timeout: scaledDuration(8000) } },
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], manager: [MGR] },
    permissions: { upgrade: ['operator'], restore: ['operator'] },
    approvals: { rules: { upgrade: { approvers: ['manager'], count: 1 } } },
    backups: { postgres: { main: { run_on: 'local', dir: mkdtempSync(join(tmpdir(), 'opsbot-upgrade-backups-')) } } },
    upgrade: {
      announce: 'C0USERS',
      migrate: { service: 'backend', command: ['migrate'] },
      smoke: { url: `http://127.0.0.1:${stack.port}/health`, expect_text: 'ok' },
      settle: '3s',
    },
  });
});
after(async () => {
  await t?.close();
  await stack?.close();
});

async function approved(text: string, done: RegExp): Promise<string> {
  const before = t.fake.calls.length;
  await t.run('/upgrade', text, { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
  const id = findButton(card, 'approval.approve')!.value;
  await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result!.ts as string, actionId: 'approval.approve', value: id });
  return waitForMessage(t.fake, card.result!.ts as string, done, scaled(180_000));
}

/** Only the service's own container is left, running v1 and healthy. */
async function backOnV1(before: any): Promise<void> {
  const now = await stack.inspect();
  assert.equal(now.Id, before.Id, 'the very container that ran before is back');
  assert.equal(now.Name, `/${stack.container}`);
  assert.equal(now.Image, await stack.imageId(`${stack.repo}:v1`));
  assert.equal(now.State.Running, true);
  assert.equal(now.State.Health.Status, 'healthy');
  const all = (await stack.engine.docker('ps', '-a', '--format', '{{.Names}}', '--filter', `name=${stack.project}`)).split('\n').filter(Boolean);
  assert.deepEqual(all, [stack.container], 'no new, old or migration container is left');
  assert.equal(await (await fetch(`http://127.0.0.1:${stack.port}/health`)).text(), 'ok v1\n');
}

describe('/upgrade that fails', () => {
  test('a v2 that never becomes healthy: rolled back by itself to v1; the card says where, that the migration ran, and the downtime', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    const text = await approved('backend v2', /Done|Failed|failed/);
    assert.match(text, new RegExp(`Failed at the switch of backend: backend on ${stack.repo}:v2 was not ready within [^(]+ \\(running, unhealthy\\)\\. Rolled back to the previous containers, which are ready; downtime [\\d.]+ s\\. The migration ran`), text);
    assert.match(text, new RegExp(`backend is back on ${stack.repo}:v1 \\(running, healthy\\)`));
    assert.match(text, /⚠️ The migration ran: the database has .*:v2's schema/);
    const [backup] = await query<{ id: string }>(t.stateDbUrl, `select id from backups where kind = 'postgres' and verify_ok`);
    assert.match(text, new RegExp(`To go back to the database from before the upgrade: /restore ${backup.id} \\(it needs its own approval; it is never run automatically\\)`));
    const down = /downtime of backend: ([\d.]+) s/.exec(text);
    assert.ok(down && Number(down[1]) >= scaled(8000) / 1000, `the downtime covers the wait for v2 (${down?.[1]})`);
    assert.deepEqual(stack.migrations(), ['migrated v2']);
    await backOnV1(before);
    // Nothing restores the database by itself, and nothing was recorded as deployed.
    assert.deepEqual(await query(t.stateDbUrl, `select id from approval_requests where command = 'restore'`), []);
    assert.match(messageText((await t.run('/versions', '', { user: OPER })).reply), /\*backend\*: runs .*:v1 \([0-9a-f]{12}\); no deployment recorded/);
    const told = t.fake.messages('C0USERS').map((m) => String((m as { text?: string }).text ?? JSON.stringify(m)));
    assert.ok(told.some((m) => /failed at the switch of backend and the previous version is back; downtime [\d.]+ s/.test(m)), told.join('\n'));
  });

  test('a v3 healthy to Docker but failing the smoke check: rolled back after it served, both outages counted', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    const text = await approved('backend v3', /Done|Failed|failed/);
    assert.match(text, new RegExp(`Failed at verification: GET http://127\\.0\\.0\\.1:${stack.port}/health did not contain "ok" \\(got: error v3\\)\\. Rolled back`), text);
    assert.match(text, new RegExp(`backend: ${stack.repo}:v1 → ${stack.repo}:v3, ready after [\\d.]+ s`));
    assert.match(text, /The migration ran/);
    assert.deepEqual(stack.migrations(), ['migrated v2', 'migrated v3']);
    await backOnV1(before);
  });

  test('interrupted mid-switch: the card can tell what runs and how to put the old container back', async () => {
    const { docker } = stack.engine;
    const before = await stack.inspect();
    const prev = `${stack.container}-prev-20261203t000000z`;
    // Where a run that died after the new container was created would leave things.
    await docker('stop', '-t', '1', stack.container);
    await docker('rename', stack.container, prev);
    await docker('create', '--name', stack.container, `${stack.repo}:v3`);
    try {
      const config = configSchema.parse({ targets: { docker: { local: { socket: stack.engine.socketPath } } }, services: { backend: { docker: 'local', container: stack.container } } });
      const item = { service: 'backend', docker: 'local', container: stack.container, containerId: before.Id, fromImage: `${stack.repo}:v1`, toImage: `${stack.repo}:v3` };
      const where = await whereSwitchIs({ t: translator('en'), config }, { items: JSON.stringify([item]) });
      assert.match(where.summary, /Interrupted/);
      assert.deepEqual(where.lines, [
        `backend: ${stack.container} runs ${stack.repo}:v3 (created)`,
        `⚠️ the old container is kept aside as ${prev} (exited); to put it back:`,
        `  docker rm -f ${stack.container}; docker rename ${prev} ${stack.container}; docker start ${stack.container}`,
      ]);
    } finally {
      await docker('rm', '-f', stack.container);
      await docker('rename', prev, stack.container);
      await docker('start', stack.container);
    }
  });
});
