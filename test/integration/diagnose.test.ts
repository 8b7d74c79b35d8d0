/** /diagnose runs the §4.1 runbooks against real Docker, SSH, PostgreSQL and Redis and opens with a verdict. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer } from 'node:net';
import { freePort } from '../harness/ports.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { scaled, scaledDuration, until } from '../helpers/wait.ts';

let ssh: SshHost;
let engine: DockerEngine;
let redis: RedisServer;
const project = `diag${process.pid}`;

before(async () => {
  [ssh, engine, redis] = await Promise.all([startSshd(), sharedDocker(), startRedis()]);
  // backend fails the way the manual's "service won't start" case looks: it cannot reach its database.
  await engine.runComposeService({
    project, service: 'backend',
    cmd: ['sh', '-c', 'echo "Booting admin-mit-backend"; echo "psycopg2.OperationalError: could not connect to server: Connection refused" >&2; exit 1'],
  });
  await engine.runComposeService({ project, service: 'worker' });
  // The crash is what /diagnose reads: wait until dockerd has recorded it, not a fixed time.
  await until('backend exited', scaled(20_000), () => engine.docker('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', `${project}-backend-1`), (s) => s === 'exited 1');
});
after(async () => {
  await redis?.stop();
  await ssh?.remove();
  await engine?.stop();
});

function config(pgUrl: string, port: number) {
  return {
    targets: {
      local: false,
      postgres: { main: { url: pgUrl } },
      redis: { cache: { url: redis.url } },
      docker: { local: { socket: engine.socketPath, project } },
      hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } },
    },
    health: { timeout: scaledDuration(3000) },
    services: {
      backend: { docker: 'local', container: `${project}-backend-1`, host: 'app1', port },
      worker: { docker: 'local', container: `${project}-worker-1`, host: 'app1', port },
    },
  };
}

describe('postgres down, backend crashed', () => {
  let t: TestBot;
  before(async () => {
    const deadPort = await freePort();
    t = await startTestBot(config(`postgres://postgres@127.0.0.1:${deadPort}/mitong_devops`, await freePort()));
  });
  after(() => t?.close());

  test('the verdict names the exit code, the cause from the log, and the dead database', async () => {
    const { reply } = await t.run('/diagnose', 'backend');
    const text = messageText(reply);
    assert.match(text, /^\*Diagnose: backend\*  backend exits with code 1 \(`could not connect to server: Connection refused`\); postgres main is down \(connect ECONNREFUSED 127\.0\.0\.1:\d+\); nothing listens on port \d+ on app1/);
    assert.match(text, /state: exited \(exit code 1\)/);
    assert.match(text, /command: sh -c echo "Booting admin-mit-backend"/);
    assert.match(text, /Last 2 log lines[\s\S]*Booting admin-mit-backend/);
    assert.match(text, /redis cache \([^)]+\): login ok, TCP from app1 ok/);
    assert.match(text, /postgres main \([^)]+\): login FAILED: connect ECONNREFUSED[^\n]*, TCP from app1 FAILED/);
    assert.match(text, /Disk on app1\*\n\/\S*: \d+% used/);
  });
});

describe('everything up', () => {
  let t: TestBot;
  let listener: ReturnType<typeof createServer>;
  before(async () => {
    listener = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => listener.once('listening', r));
    const port = (listener.address() as { port: number }).port;
    t = await startTestBot(config((await sharedPostgres()).url, port));
  });
  after(async () => {
    await t?.close();
    listener?.close();
  });

  test('a healthy service gets a healthy verdict with what was checked', async () => {
    const { reply } = await t.run('/diagnose', 'worker');
    const text = messageText(reply);
    assert.match(text, new RegExp(`worker looks healthy: ${project}-worker-1 running, port \\d+ listening, postgres main, redis cache reachable`));
  });

  test('an unknown service gets usage with a did-you-mean', async () => {
    const { reply } = await t.run('/diagnose', 'backnd');
    assert.match(messageText(reply), /Unknown service "backnd"\. Choose one of: backend, worker\. Did you mean backend\?/);
  });
});
