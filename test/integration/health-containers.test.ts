/**
 * /health's containers check (the manual's `docker-compose ps`) end to end: signed HTTP in,
 * a real Docker Engine behind the bot, the reply read back from the fake Slack Web API.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DockerEngine } from '../harness/docker.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { startStack } from '../helpers/compose.ts';
import { sleep, until } from '../helpers/wait.ts';

let project = '';
const name = (service: string) => `${project}-${service}-1`;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('/health containers', () => {
  let engine: DockerEngine;
  let t: TestBot;

  before(async () => {
    const stack = await startStack();
    ({ engine, project } = stack);
    // Until its first check passes the backend is "starting", which is a warning.
    await until('backend health', 20_000, () => engine.docker('inspect', '--format', '{{.State.Health.Status}}', name('backend')), (h) => h === 'healthy', 200);
    t = await startTestBot({ targets: { local: false, docker: { local: { socket: engine.socketPath, project } } }, health: { timeout: '3s' } });
  });
  after(async () => {
    await t?.close();
    await engine?.stop();
  });

  test('/health shows every container of the project running', async () => {
    const text = messageText((await t.run('/health')).reply);
    assert.match(text, /✅ \*containers local\*: 3\/3 running/);
  });

  test('/health containers gives a docker-compose ps table', async () => {
    const text = messageText((await t.run('/health', 'containers')).reply);
    assert.match(text, new RegExp(`Containers local \\(unix://${esc(engine.socketPath)}, project ${project}\\)`));
    assert.match(text, /NAME\s+SERVICE\s+STATE\s+HEALTH\s+RESTARTS\s+UP\s+IMAGE/);
    assert.match(text, new RegExp(`${name('backend')}\\s+backend\\s+running\\s+healthy\\s+0\\s+[\\d.]+ sec\\s+${esc(engine.image)}`));
    assert.match(text, new RegExp(`${name('worker')}\\s+worker\\s+running\\s+-\\s+0`));
    assert.match(text, new RegExp(`${name('nginx')}\\s+nginx\\s+running`));
  });

  test('a container restarted a moment ago is a warning', async () => {
    await engine.docker('restart', '-t', '1', name('nginx'));
    const text = messageText((await t.run('/health')).reply);
    assert.match(text, new RegExp(`⚠️ \\*containers local\\*: ${name('nginx')} restarted [\\d.]+ (ms|sec) ago \\(3/3 running\\)`));
  });

  test('a stopped container is critical and named', async () => {
    await engine.docker('stop', '-t', '1', name('worker'));
    try {
      const text = messageText((await t.run('/health')).reply);
      assert.match(text, new RegExp(`❌ \\*containers local\\*: ${name('worker')} exited \\(code 137\\)[^\\n]*\\(2/3 running\\)`));
      const table = messageText((await t.run('/health', 'containers')).reply);
      assert.match(table, new RegExp(`${name('worker')}\\s+worker\\s+exited \\(137\\)\\s+-\\s+0\\s+-`));
    } finally {
      await engine.docker('start', name('worker'));
    }
  });

  test('an unreachable Docker is ❌ with the reason, and the bot keeps answering', async () => {
    const socket = join(tmpdir(), `opsbot-no-docker-${process.pid}`, 'docker.sock');
    const down = await startTestBot({ targets: { local: false, docker: { local: { socket } } }, health: { timeout: '2s' } });
    try {
      const first = messageText((await down.run('/health')).reply);
      assert.match(first, new RegExp(`❌ \\*containers local\\*: cannot reach Docker at ${esc(socket)}: ENOENT`));
      const next = messageText((await down.run('/health', 'containers')).reply);
      assert.match(next, /unreachable: cannot reach Docker at/);
      assert.equal((await fetch(`${down.url}/healthz`)).status, 200);
    } finally {
      await down.close();
    }
  });
});
