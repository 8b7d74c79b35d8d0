/**
 * /diagnose when the probe's own SSH session is slow or the host never answers: the verdict says
 * what could not be checked and why, and never reads it as the network failing. Also a service on
 * host `local`, checked on this machine.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { sharedPostgres } from '../harness/postgres.ts';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';

interface Relay {
  port: number;
  /** How long the server's bytes are held back before reaching the client. */
  delayMs: number;
  stop(): Promise<void>;
}

/** A TCP relay in front of sshd that can hold back its answers: a slow session on a healthy network. */
async function startRelay(host: string, port: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const relay = { port: 0, delayMs: 0, stop: async () => {} };
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    let last = 0;
    upstream.on('data', (chunk: Buffer) => {
      const at = Math.max(Date.now() + relay.delayMs, last);
      last = at;
      if (at <= Date.now()) client.write(chunk);
      else setTimeout(() => client.destroyed || client.write(chunk), at - Date.now());
    });
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as net.AddressInfo).port;
  relay.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return relay;
}

let ssh: SshHost;
let relay: Relay;
let tarpit: Tarpit;
let listener: net.Server;
let listenPort: number;
let t: TestBot;

before(async () => {
  [ssh, tarpit] = await Promise.all([startSshd(), startTarpit()]);
  relay = await startRelay(ssh.host, ssh.port);
  listener = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => listener.once('listening', r));
  listenPort = (listener.address() as net.AddressInfo).port;
  const host = (port: number) => ({ address: '127.0.0.1', port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint });
  t = await startTestBot({
    targets: {
      local: true,
      postgres: { main: { url: (await sharedPostgres()).url } },
      hosts: { app1: host(relay.port), app2: host(tarpit.port) },
    },
    health: { timeout: '2s' },
    services: {
      backend: { host: 'app1', port: listenPort },
      api: { host: 'app2' },
      onbox: { host: 'local', port: listenPort },
    },
  });
});
after(async () => {
  await t?.close();
  await relay?.stop();
  await tarpit?.stop();
  await ssh?.stop();
  listener?.close();
});

test('with a quick session, the probe from app1 counts', async () => {
  const { reply } = await t.run('/diagnose', 'backend');
  const text = messageText(reply);
  assert.match(text, new RegExp(`backend looks healthy: port ${listenPort} listening, postgres main reachable`));
  assert.match(text, /postgres main \([^)]+\): login ok, TCP from app1 ok/);
});

test('a session slower than the timeout is "could not check from app1", not a network failure', async () => {
  relay.delayMs = 6000;
  try {
    const { reply } = await t.run('/diagnose', 'backend');
    const text = messageText(reply);
    // Over the open connection the commands time out; one that has to reconnect meets a handshake
    // that does not come in time. Either way the reason is the session, for every part.
    const why = '(the SSH session timed out after 2 s|unreachable: no SSH handshake with 127\\.0\\.0\\.1:\\d+ within 2 s)';
    const verdictLine = text.split('\n')[0];
    assert.match(verdictLine, /^\*Diagnose: backend\*  backend: no problem found, but could not check from app1 \(/);
    const clauses = verdictLine.replace(/^.*?no problem found, but /, '').split('; ');
    const parts: string[] = [];
    for (const clause of clauses) {
      const m = new RegExp(`^could not check from app1 \\(([^)]+)\\): ${why}$`).exec(clause);
      assert.ok(m, `a session reason: ${clause}`);
      parts.push(...m[1].split(', '));
    }
    assert.deepEqual(parts.sort(), ['TCP to postgres main', 'disk', `port ${listenPort}`].sort());
    assert.doesNotMatch(text, /unreachable from app1|nothing listens|FAILED/);
    assert.match(text, new RegExp(`postgres main \\([^)]+\\): login ok, TCP from app1 not checked: ${why}`));
    assert.match(text, new RegExp(`Port \\d+ on app1\\*\\nnot checked: ${why}`));
  } finally {
    relay.delayMs = 0;
  }
});

test('a host that never answers SSH is named as such, and nothing is blamed on the network', async () => {
  const { reply } = await t.run('/diagnose', 'api');
  const text = messageText(reply);
  assert.match(text, /api: no problem found, but could not check from app2 \(TCP to postgres main, disk\): (the SSH session timed out after 2 s|unreachable: no SSH handshake with 127\.0\.0\.1:\d+ within 2 s)/);
  assert.doesNotMatch(text, /unreachable from app2|FAILED/);
});

test('a service on host local is checked on this machine', async () => {
  const { reply } = await t.run('/diagnose', 'onbox');
  const text = messageText(reply);
  assert.match(text, new RegExp(`onbox looks healthy: port ${listenPort} listening, postgres main reachable`));
  assert.match(text, /postgres main \([^)]+\): login ok, TCP from local ok/);
  assert.match(text, new RegExp(`Port ${listenPort} on local\\*\\nlistening`));
  assert.match(text, /Disk on local\*\n\/\S*: \d+% used/);
});
