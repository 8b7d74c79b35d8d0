/**
 * /upgrade of two services at once, against a real dockerd: backend, and a worker from its own
 * repository on two user-defined networks. Both switched and kept; the second one failing, and
 * both put back by themselves in reverse order; a smoke check that is a command run in the new
 * container; and a /restart approved while an upgrade switches its service.
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
import { scaled, scaledDuration, until } from '../helpers/wait.ts';
import { recreateSpec } from '../../src/targets/docker-recreate.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const TIMEOUT = scaled(240_000);
const READY_MS = 10_000;

let stack: UpgradeStack;
let worker: NonNullable<UpgradeStack['worker']>;
let t: TestBot;

before(async () => {
  stack = await startUpgradeStack(
    // v4 serves and is healthy, but lacks /www/ready: only the smoke command catches it.
    [{ tag: 'v1', healthy: true }, { tag: 'v2', healthy: true }, { tag: 'v3', healthy: true }, { tag: 'v4', healthy: true, ready: false }, { tag: 'v5', healthy: true }],
    { worker: [{ tag: 'v1', healthy: true }, { tag: 'v2', healthy: false }, { tag: 'v3', healthy: true }] },
  );
  worker = stack.worker!;
  const liveUrl = await (await sharedPostgres()).createDatabase();
  await pgbenchInit(liveUrl, 1);
  t = await startTestBot({
    targets: { local: true, docker: { local: { socket: stack.engine.socketPath, project: stack.project } }, postgres: { main: { url: liveUrl } } },
    services: {
      backend: { docker: 'local', container: stack.container, stop_timeout: '1s', ready_timeout: scaledDuration(READY_MS), image: stack.repo },
      worker: { docker: 'local', container: worker.container, stop_timeout: '1s', ready_timeout: scaledDuration(READY_MS), image: worker.repo },
    },
    channels: { approvals: 'C0APPROVALS' },
    roles: { operator: [OPER], manager: [MGR] },
    permissions: { upgrade: ['operator'], restart: ['operator'] },
    approvals: { rules: { upgrade: { approvers: ['manager'], count: 1 }, restart: { approvers: ['manager'], count: 1 } } },
    backups: { postgres: { main: { run_on: 'local', dir: mkdtempSync(join(tmpdir(), 'opsbot-upgrade-backups-')) } } },
    upgrade: {
      announce: 'C0USERS',
      // Run in the new container of the first service upgraded (backend).
      smoke: { command: ['test', '-f', '/www/ready'] },
      // Long enough for a /restart to be approved while the upgrade verifies.
      settle: scaledDuration(10_000),
    },
  });
});
after(async () => {
  await t?.close();
  await stack?.close();
});

/** Asks for a command, has the manager approve it, and returns its card (as first posted) and id. */
async function requested(cmd: string, text: string) {
  const before = t.fake.calls.length;
  await t.run(cmd, text, { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
  return { ts: card.result!.ts as string, id: findButton(card, 'approval.approve')!.value };
}

const approve = (card: { ts: string; id: string }) => t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.ts, actionId: 'approval.approve', value: card.id });

async function approved(text: string): Promise<string> {
  const card = await requested('/upgrade', text);
  await approve(card);
  return waitForMessage(t.fake, card.ts, /Done|Failed|failed/, scaled(180_000));
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const names = async () => (await stack.engine.docker('ps', '-a', '--format', '{{.Names}}', '--filter', `name=${stack.project}`)).split('\n').filter(Boolean).sort();
const networks = (c: any) => Object.fromEntries(Object.entries(c.NetworkSettings.Networks).map(([n, e]: [string, any]) => [n, (e.Aliases ?? []).filter((a: string) => a !== c.Id.slice(0, 12)).sort()]));

describe('/upgrade of several services', () => {
  test('the second service fails its switch: both go back to v1 by themselves, worker first; the card says where and each downtime', { timeout: TIMEOUT }, async () => {
    const t0 = Date.now();
    const backendBefore = await stack.inspect();
    const workerBefore = await stack.inspect(worker.container);
    const text = await approved('backend worker v2');
    assert.match(text, new RegExp(`Failed at the switch of worker: worker on ${esc(worker.repo)}:v2 was not ready within [^(]+ \\(running, unhealthy\\)\\. Rolled back to the previous containers, which are ready; downtime [\\d.]+ s\\.`), text);
    // backend was switched (and ready on v2) before worker's switch failed.
    assert.match(text, new RegExp(`backend: ${esc(stack.repo)}:v1 → ${esc(stack.repo)}:v2, ready after [\\d.]+ s`));
    const workerBack = text.indexOf(`worker is back on ${worker.repo}:v1 (running, healthy)`);
    const backendBack = text.indexOf(`backend is back on ${stack.repo}:v1 (running, healthy)`);
    assert.ok(workerBack >= 0 && backendBack >= 0, text);
    assert.ok(workerBack < backendBack, 'undone in reverse order: worker, then backend');
    const down = (service: string) => Number(new RegExp(`downtime of ${service}: ([\\d.]+) s`).exec(text)?.[1]);
    assert.ok(down('backend') > 0, text);
    assert.ok(down('worker') >= scaled(READY_MS) / 1000, `worker's downtime covers the wait for its v2 (${down('worker')})`);

    // The very containers that ran before, on v1, healthy; nothing else left.
    const b = await stack.inspect();
    const w = await stack.inspect(worker.container);
    for (const [now, was, repo] of [[b, backendBefore, stack.repo], [w, workerBefore, worker.repo]]) {
      assert.equal(now.Id, was.Id);
      assert.equal(now.Image, await stack.imageId(`${repo}:v1`));
      assert.equal(now.State.Running, true);
      assert.equal(now.State.Health.Status, 'healthy');
      // Each was stopped and started again during this run.
      assert.ok(Date.parse(now.State.StartedAt) > t0, `${now.Name} restarted by the rollback`);
    }
    // Reverse order, seen on the engine too: worker was started again before backend.
    assert.ok(Date.parse(w.State.StartedAt) < Date.parse(b.State.StartedAt), `${w.State.StartedAt} < ${b.State.StartedAt}`);
    assert.deepEqual(await names(), [stack.container, worker.container].sort(), 'no new or old container is left');
    assert.equal(await (await fetch(`http://127.0.0.1:${stack.port}/health`)).text(), 'ok v1\n');
    const versions = messageText((await t.run('/versions', '', { user: OPER })).reply);
    assert.match(versions, /\*backend\*: runs .*:v1 \([0-9a-f]{12}\); no deployment recorded/);
    assert.match(versions, /\*worker\*: runs .*:v1 \([0-9a-f]{12}\); no deployment recorded/);
  });

  test('both healthy: both run v3, each keeping its labels, mounts and networks (worker on two, with both aliases); /versions shows both', { timeout: TIMEOUT }, async () => {
    const backendBefore = await stack.inspect();
    const workerBefore = await stack.inspect(worker.container);
    assert.deepEqual(networks(workerBefore), { [stack.network]: ['worker'], [worker.jobsNetwork]: ['jobs'] }, 'the worker starts on two networks');
    // The engine takes one network at create: the second is left to be connected afterwards.
    const oldImage = JSON.parse(await stack.engine.docker('image', 'inspect', workerBefore.Image))[0];
    const spec = recreateSpec(workerBefore, oldImage, `${worker.repo}:v3`, worker.container);
    assert.deepEqual(Object.keys(spec.NetworkingConfig?.EndpointsConfig ?? {}), [stack.network]);

    const text = await approved('backend worker v3');
    assert.match(text, /Upgraded backend → v3 and worker → v3; downtime [\d.]+ s\./, text);
    assert.match(text, new RegExp(`backend: ${esc(stack.repo)}:v1 → ${esc(stack.repo)}:v3, ready after`));
    assert.match(text, new RegExp(`worker: ${esc(worker.repo)}:v1 → ${esc(worker.repo)}:v3, ready after`));
    assert.match(text, /verified for .+: healthy, no restarts, smoke check passing/);
    assert.match(text, /downtime of backend: [\d.]+ s/);
    assert.match(text, /downtime of worker: [\d.]+ s/);

    const b = await stack.inspect();
    const w = await stack.inspect(worker.container);
    for (const [now, was, repo, service] of [[b, backendBefore, stack.repo, 'backend'], [w, workerBefore, worker.repo, 'worker']]) {
      assert.notEqual(now.Id, was.Id, `${service} was recreated`);
      assert.equal(now.Name, was.Name);
      assert.equal(now.Config.Image, `${repo}:v3`);
      assert.equal(now.Image, await stack.imageId(`${repo}:v3`));
      assert.equal(now.State.Health.Status, 'healthy');
      for (const k of ['com.docker.compose.project', 'com.docker.compose.service', 'com.docker.compose.container-number', 'opsbot.test']) {
        assert.equal(now.Config.Labels[k], was.Config.Labels[k], `${service} ${k}`);
      }
      assert.equal(now.Config.Labels['org.opencontainers.image.version'], 'v3');
      assert.deepEqual(now.Mounts.map((m: any) => [m.Source, m.Destination]), was.Mounts.map((m: any) => [m.Source, m.Destination]), service);
      assert.deepEqual(now.HostConfig.RestartPolicy, was.HostConfig.RestartPolicy);
      assert.deepEqual(networks(now), networks(was), `${service} keeps its networks and aliases`);
    }
    assert.equal(b.Config.Labels['com.docker.compose.service'], 'backend');
    assert.equal(w.Config.Labels['com.docker.compose.service'], 'worker');
    assert.deepEqual(w.Mounts.map((m: any) => [m.Source, m.Destination]), [[worker.dataDir, '/jobs']]);
    assert.ok(w.Config.Env.includes('QUEUE_URL=redis://queue:6379/0'), w.Config.Env.join(' '));
    assert.deepEqual(networks(w), { [stack.network]: ['worker'], [worker.jobsNetwork]: ['jobs'] });
    assert.deepEqual(networks(b), { [stack.network]: ['backend'] });
    // Reachable by its alias on the second network, from another container on it.
    const probe = await stack.engine.docker('run', '--rm', '--network', worker.jobsNetwork, stack.engine.image, 'wget', '-q', '-O', '-', 'http://jobs:8080/health');
    assert.equal(probe, 'ok v3');
    assert.deepEqual(await names(), [stack.container, worker.container].sort(), 'the old containers are gone');

    const versions = messageText((await t.run('/versions', '', { user: OPER })).reply);
    for (const [service, repo] of [['backend', stack.repo], ['worker', worker.repo]]) {
      assert.match(versions, new RegExp(`\\*${service}\\*: ${esc(repo)}:v3 \\(tag v3, image [0-9a-f]{12}, .*\\) · upgraded \\S+ \\S+ \\S+ by <@${OPER}> \\(r-\\w+\\) · replaced ${esc(repo)}:v1 \\([0-9a-f]{12}\\)`), versions);
    }
  });

  test('a smoke command that fails (v4 lacks /www/ready) is rolled back; one that passes (v5) is kept', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    const workerBefore = await stack.inspect(worker.container);
    const failed = await approved('backend v4');
    assert.match(failed, /Failed at verification: test -f \/www\/ready in backend exited 1: .*Rolled back to the previous containers, which are ready/, failed);
    assert.match(failed, new RegExp(`backend is back on ${esc(stack.repo)}:v3 \\(running, healthy\\)`));
    const back = await stack.inspect();
    assert.equal(back.Id, before.Id, 'the v3 container is back');
    assert.equal(back.Image, await stack.imageId(`${stack.repo}:v3`));
    assert.equal(back.State.Health.Status, 'healthy');
    assert.equal((await stack.inspect(worker.container)).Id, workerBefore.Id, 'worker untouched');
    assert.deepEqual(await names(), [stack.container, worker.container].sort());

    const kept = await approved('backend v5');
    assert.match(kept, /Upgraded backend → v5; downtime [\d.]+ s\./, kept);
    assert.match(kept, /healthy, no restarts, smoke check passing/);
    const now = await stack.inspect();
    assert.equal(now.Image, await stack.imageId(`${stack.repo}:v5`));
    assert.equal(await stack.engine.docker('exec', stack.container, 'sh', '-c', 'test -f /www/ready && echo present'), 'present');
    assert.match(messageText((await t.run('/versions', 'backend', { user: OPER })).reply), new RegExp(`\\*backend\\*: ${esc(stack.repo)}:v5 .* replaced ${esc(stack.repo)}:v3`));
  });

  test('a /restart approved while an upgrade switches backend is refused, naming the upgrade, and restarts nothing', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    // Requested before the upgrade, for the container that runs now.
    const restart = await requested('/restart', 'backend');
    const upgradeCard = await requested('/upgrade', 'backend v3');
    await approve(upgradeCard);
    const upgrade = waitForMessage(t.fake, upgradeCard.ts, /Done|Failed|failed/, scaled(180_000));
    await until('the upgrade running', scaled(60_000), () => query<{ state: string }>(t.stateDbUrl, 'select state from approval_requests where id = $1', [upgradeCard.id]), (r) => r[0].state === 'running', 100);
    // Switched: the service's name now holds the new container, which the upgrade is verifying.
    const switched = await until('backend switched', scaled(60_000), () => stack.inspect(), (c) => c.Id !== before.Id && c.State.Running, 100);
    assert.equal((await query<{ state: string }>(t.stateDbUrl, 'select state from approval_requests where id = $1', [upgradeCard.id]))[0].state, 'running', 'still verifying');

    await approve(restart);
    const refused = await waitForMessage(t.fake, restart.ts, /precondition failed/, scaled(60_000));
    assert.match(refused, new RegExp(`/upgrade backend v3 \\(${upgradeCard.id}\\) is running on backend`), refused);
    // The upgrade went on, and its verification saw no restart of the new container.
    assert.match(await upgrade, /Upgraded backend → v3/);
    const now = await stack.inspect();
    assert.equal(now.Id, switched.Id);
    assert.equal(now.State.StartedAt, switched.State.StartedAt, 'not restarted');
    assert.equal(now.RestartCount, switched.RestartCount);
    const [r] = await query<{ state: string }>(t.stateDbUrl, 'select state from approval_requests where id = $1', [restart.id]);
    assert.notEqual(r.state, 'succeeded');
  });
});
