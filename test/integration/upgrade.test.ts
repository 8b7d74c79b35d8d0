/**
 * /upgrade, /rollback and /versions against a real dockerd (busybox images tagged v1 and v2, no
 * registry) and a real PostgreSQL (the backup the upgrade starts from).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findButton, messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { startUpgradeStack, type UpgradeStack } from '../helpers/upgrade-stack.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { startFakeSlack } from '../harness/fake-slack.ts';
import { TOKEN } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaled, until } from '../helpers/wait.ts';
import { translator } from '../../src/i18n/index.ts';

const OPER = 'U0OPER';
const MGR = 'U0MGR';
const TIMEOUT = scaled(240_000);

let stack: UpgradeStack;
let t: TestBot;

before(async () => {
  stack = await startUpgradeStack([{ tag: 'v1', healthy: true }, { tag: 'v2', healthy: true }]);
  const liveUrl = await (await sharedPostgres()).createDatabase();
  await pgbenchInit(liveUrl, 1);
  const configDir = mkdtempSync(join(tmpdir(), 'opsbot-upgrade-config-'));
  writeFileSync(join(configDir, 'app.yaml'), 'debug: false\n');
  const fake = await startFakeSlack({ token: TOKEN, users: { U0ZH: { locale: 'zh-CN' } } });
  t = await startTestBot({
    targets: { local: true, docker: { local: { socket: stack.engine.socketPath, project: stack.project } }, postgres: { main: { url: liveUrl } } },
    services: { backend: { docker: 'local', container: stack.container, stop_timeout: '1s', ready_timeout: '30s', image: stack.repo } },
    channels: { approvals: 'C0APPROVALS', zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { operator: [OPER, 'U0ZH'], manager: [MGR] },
    permissions: { upgrade: ['operator'], rollback: ['operator'], restore: ['operator'], backup: ['operator'] },
    approvals: { rules: { upgrade: { approvers: ['manager'], count: 1 }, rollback: { approvers: ['manager'], count: 1 }, restore: { approvers: ['manager'], count: 1 } } },
    // The restore's swap stops backend: it must not run while an upgrade switches backend.
    restore: { stop_services: ['backend'] },
    backups: {
      postgres: { main: { run_on: 'local', dir: mkdtempSync(join(tmpdir(), 'opsbot-upgrade-backups-')) } },
      files: { config: { host: 'local', paths: [configDir], dir: mkdtempSync(join(tmpdir(), 'opsbot-upgrade-files-')) } },
    },
    upgrade: {
      backup_max_age: '24h', announce: 'C0USERS', files: ['config'],
      migrate: { service: 'backend', command: 'migrate' },
      smoke: { url: `http://127.0.0.1:${stack.port}/health`, expect_status: 200, expect_text: 'ok' },
      settle: '3s',
    },
  }, { fake });
});
after(async () => {
  await t?.close();
  await t?.fake.stop();
  await stack?.close();
});

/** Asks for an upgrade or rollback, has the manager approve it, and returns the card's final text. */
async function approved(cmd: string, text: string, done: RegExp): Promise<string> {
  const before = t.fake.calls.length;
  await t.run(cmd, text, { user: OPER });
  const card = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS');
  const id = findButton(card, 'approval.approve')!.value;
  await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result!.ts as string, actionId: 'approval.approve', value: id });
  return waitForMessage(t.fake, card.result!.ts as string, done, scaled(180_000));
}

const announcements = () => t.fake.messages('C0USERS').map((m) => messageText({ method: 'message', args: m as never, at: 0, status: 200, result: {} }));

describe('/upgrade', () => {
  test('an unknown service and a missing tag are refused clearly', async () => {
    const unknown = messageText((await t.run('/upgrade', 'backnd v2', { user: OPER })).reply);
    assert.match(unknown, /Unknown service "backnd"\. Services with a container: backend\./);
    assert.match(unknown, /Did you mean backend\?/);
    const noTag = messageText((await t.run('/upgrade', 'backend', { user: OPER })).reply);
    assert.match(noTag, /Name the tag to upgrade to/);
    assert.match(noTag, /\/upgrade <service…> <tag>/);
  });

  test('a tag that is not on the engine and cannot be pulled is refused before anyone is asked to approve, changing nothing', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    const cards = () => t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS').length;
    const cardsBefore = cards();
    for (const text of ['backend v9 --dry-run', 'backend v9']) {
      const { reply } = await t.run('/upgrade', text, { user: OPER });
      assert.match(messageText(reply), new RegExp(`Image ${stack.repo}:v9 is not on docker:local and could not be pulled: .+\\. Nothing was changed\\.`));
    }
    assert.equal(cards(), cardsBefore, 'no approval card for an upgrade that cannot start');
    const now = await stack.inspect();
    assert.equal(now.Id, before.Id);
    assert.equal(now.State.Running, true);
    assert.deepEqual(stack.migrations(), []);
  });

  test('without a recent verified backup it takes one; v1 → v2 keeps labels, mounts, network and ports; /versions shows it', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    assert.equal(before.Config.Image, `${stack.repo}:v1`);
    assert.deepEqual(await query(t.stateDbUrl, 'select id from backups where kind = $1', ['postgres']), []);
    const plan = messageText((await t.run('/upgrade', 'backend v2 --dry-run', { user: OPER })).reply);
    assert.match(plan, /no verified backup of main from the last 1 day: take one and verify it first/);
    assert.match(plan, /run migrate in a one-off container/);

    const text = await approved('/upgrade', 'backend v2', /Done|Failed|failed/);
    assert.match(text, new RegExp(`Upgraded backend → v2; downtime [\\d.]+ s\\.`), text);
    const [backup] = await query<{ id: string; verify_ok: boolean }>(t.stateDbUrl, `select id, verify_ok from backups where kind = 'postgres' and state = 'ok'`);
    assert.ok(backup, 'a backup was taken');
    assert.equal(backup.verify_ok, true);
    assert.match(text, new RegExp(`database backup ${backup.id} taken and verified`));
    assert.match(text, /files of config backed up: /);
    assert.match(text, /migration migrate ran: exit 0/);
    assert.match(text, /verified for 3 sec: healthy, no restarts, smoke check passing/);
    assert.match(text, /downtime of backend: [\d.]+ s/);

    // The migration ran once, in a container of v2.
    assert.deepEqual(stack.migrations(), ['migrated v2']);
    // The container runs v2, with what compose would have kept.
    const after = await stack.inspect();
    assert.notEqual(after.Id, before.Id);
    assert.equal(after.Name, `/${stack.container}`);
    assert.equal(after.Config.Image, `${stack.repo}:v2`);
    assert.equal(after.Image, await stack.imageId(`${stack.repo}:v2`));
    assert.equal(after.State.Health.Status, 'healthy');
    for (const k of ['com.docker.compose.project', 'com.docker.compose.service', 'com.docker.compose.container-number', 'opsbot.test']) {
      assert.equal(after.Config.Labels[k], before.Config.Labels[k], k);
    }
    assert.equal(after.Config.Labels['org.opencontainers.image.version'], 'v2', 'the new image\'s own labels apply');
    assert.ok(after.Config.Env.includes('APP_VERSION=v2') && after.Config.Env.includes('DATABASE_URL=postgres://app@db/mitong'), after.Config.Env.join(' '));
    assert.deepEqual(after.Mounts.map((m: any) => [m.Source, m.Destination]), before.Mounts.map((m: any) => [m.Source, m.Destination]));
    assert.deepEqual(after.HostConfig.PortBindings, before.HostConfig.PortBindings);
    assert.deepEqual(after.HostConfig.RestartPolicy, before.HostConfig.RestartPolicy);
    assert.deepEqual(Object.keys(after.NetworkSettings.Networks), [stack.network]);
    assert.ok(after.NetworkSettings.Networks[stack.network].Aliases.includes('backend'));
    // Served through the same published port.
    assert.equal(await (await fetch(`http://127.0.0.1:${stack.port}/health`)).text(), 'ok v2\n');
    // The old container is gone once verified.
    assert.equal(await stack.engine.docker('ps', '-aq', '--filter', `name=${stack.container}-prev`), '');
    // Users were told, with the downtime to expect and then the one measured.
    const told = announcements();
    assert.ok(told.some((m) => /Upgrading backend → v2 now \(r-\w+\)\. Expect about .+ of downtime\./.test(m)), told.join('\n'));
    assert.ok(told.some((m) => /The upgrade of backend → v2 is done; downtime [\d.]+ s\./.test(m)), told.join('\n'));

    const versions = messageText((await t.run('/versions', '', { user: OPER })).reply);
    assert.match(versions, new RegExp(`\\*backend\\*: ${stack.repo}:v2 \\(tag v2, image [0-9a-f]{12}, digest none \\(built or loaded here\\)\\) · upgraded \\S+ \\S+ \\S+ by <@${OPER}> \\(r-\\w+\\) · replaced ${stack.repo}:v1 \\([0-9a-f]{12}\\)`));
  });

  test('a second upgrade starts from the recent verified backup instead of taking another', { timeout: TIMEOUT }, async () => {
    const plan = messageText((await t.run('/upgrade', 'backend v1 --dry-run', { user: OPER })).reply);
    const [backup] = await query<{ id: string }>(t.stateDbUrl, `select id from backups where kind = 'postgres'`);
    assert.match(plan, new RegExp(`start from backup ${backup.id}, verified`));
  });

  test('/rollback --with-data returns to v1, files the /restore for its own approval, and /versions records it', { timeout: TIMEOUT }, async () => {
    const [backup] = await query<{ id: string }>(t.stateDbUrl, `select id from backups where kind = 'postgres'`);
    const plan = messageText((await t.run('/rollback', 'backend --with-data --dry-run', { user: OPER })).reply);
    assert.match(plan, new RegExp(`then file /restore ${backup.id} \\(it needs its own approval\\)`));
    const text = await approved('/rollback', 'backend --with-data', /Done|Failed|failed/);
    assert.match(text, /Rolled back backend → v1; downtime [\d.]+ s\./, text);
    assert.match(text, new RegExp(`/restore ${backup.id} filed as <@${OPER}>: Approval requested \\((r-\\w+)\\)`));
    const restores = await query<{ requester: string; state: string; args_text: string }>(t.stateDbUrl, `select requester, state, args_text from approval_requests where command = 'restore'`);
    assert.deepEqual(restores, [{ requester: OPER, state: 'pending', args_text: backup.id }], 'filed, and waiting for its own approval');
    const now = await stack.inspect();
    assert.equal(now.Config.Image, `${stack.repo}:v1`);
    assert.equal(now.Image, await stack.imageId(`${stack.repo}:v1`));
    assert.equal(now.State.Health.Status, 'healthy');
    assert.equal(now.Config.Labels['opsbot.test'], 'kept');
    // No migration runs on a rollback.
    assert.deepEqual(stack.migrations(), ['migrated v2']);
    const versions = messageText((await t.run('/versions', 'backend', { user: OPER })).reply);
    assert.match(versions, new RegExp(`\\*backend\\*: ${stack.repo}:v1 \\(tag v1, .*rolled back .* replaced ${stack.repo}:v2`));
  });

  test('zh-CN: /versions in a Chinese channel, and a refusal to a Chinese reader', async () => {
    const zh = translator('zh-CN');
    const versions = messageText((await t.run('/versions', '', { user: OPER, channel: 'C0ZH' })).reply);
    assert.match(versions, new RegExp(zh('upgrade:versions.kind_rollback')));
    assert.match(versions, /替换了/);
    assert.doesNotMatch(versions, /replaced|deployment recorded/);
    const refused = messageText((await t.run('/upgrade', 'backnd v2', { user: 'U0ZH' })).reply);
    assert.match(refused, /未知服务“backnd”。带容器的服务：backend。/);
    const plan = messageText((await t.run('/upgrade', 'backend v2 --dry-run', { user: 'U0ZH' })).reply);
    assert.match(plan, /升级前准备：使用备份 .+，已验证/);
    assert.match(plan, /任何一步失败：自动恢复之前的容器/);
  });

  test('while an upgrade switches backend, the filed /restore is refused when approved, and another /upgrade is refused', { timeout: TIMEOUT }, async () => {
    const [pending] = await query<{ id: string }>(t.stateDbUrl, `select id from approval_requests where command = 'restore' and state = 'pending'`);
    assert.ok(pending, 'the /restore filed by the rollback above is waiting');
    const upgrade = approved('/upgrade', 'backend v2', /Done|Failed|failed/);
    await until('the upgrade running', scaled(60_000), () => query<{ n: number }>(t.stateDbUrl, `select count(*)::int n from approval_requests where command = 'upgrade' and state = 'running'`), (r) => r[0].n === 1, 100);
    const second = messageText((await t.run('/upgrade', 'backend v1', { user: OPER })).reply);
    assert.match(second, /\/upgrade backend v2 \(r-\w+\) is running on backend; wait until it has finished\./, second);
    const card = t.fake.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS' && findButton(c, 'approval.approve')?.value === pending.id);
    assert.ok(card, 'the restore\'s card');
    await t.click({ user: MGR, channel: 'C0APPROVALS', ts: card.result!.ts as string, actionId: 'approval.approve', value: pending.id });
    const refused = await waitForMessage(t.fake, card.result!.ts as string, /precondition failed/, scaled(60_000));
    assert.match(refused, /\/upgrade backend v2 \(r-\w+\) is running on backend/, refused);
    assert.match(await upgrade, /Upgraded backend → v2/);
    // The database was never touched by the refused restore: no side or previous database was made.
    const [restore] = await query<{ state: string }>(t.stateDbUrl, 'select state from approval_requests where id = $1', [pending.id]);
    assert.notEqual(restore.state, 'succeeded');
  });

  test('a change freeze refuses it, as any destructive command', { timeout: TIMEOUT }, async () => {
    const before = await stack.inspect();
    const declared = messageText((await t.run('/incident', 'declare Checkout returns 502 --sev sev1', { user: OPER, channel: 'C0OPS' })).reply);
    assert.match(declared, /Incident #\d+ declared/, declared);
    const n = t.fake.calls.length;
    const refused = messageText((await t.run('/upgrade', 'backend v2', { user: OPER, channel: 'C0OPS' })).reply);
    assert.match(refused, /Change freeze: incident #\d+ \(sev1, Checkout returns 502\) is open/);
    assert.equal(t.fake.calls.slice(n).filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0APPROVALS').length, 0, 'no approval card');
    assert.equal((await stack.inspect()).Id, before.Id);
  });
});
