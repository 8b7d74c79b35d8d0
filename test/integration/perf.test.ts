/**
 * /perf against real servers: an SSH host whose top processes include a busy loop, a Docker
 * container burning a CPU, PostgreSQL with a slow statement and a real lock wait, and Redis. The
 * verdict names the lock wait and the next command; a host that never answers is reported after
 * its own timeout without holding up the rest; a Chinese channel reads it in Chinese.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaled, scaledDuration, until } from '../helpers/wait.ts';

let ssh: SshHost;
let engine: DockerEngine;
let redis: RedisServer;
let tarpit: Tarpit;
let url: string;
let holder: pg.Client;
let waiter: pg.Client;
let waiting: Promise<unknown>;
let t: TestBot;
const project = `perf${process.pid}`;
const busy = `${project}-worker-1`;

before(async () => {
  let server;
  [ssh, engine, redis, tarpit, server] = await Promise.all([startSshd(), sharedDocker(), startRedis(), startTarpit(), sharedPostgres()]);
  // A container that burns one CPU: what "the worker is spinning" looks like (a marker word names it in ps).
  await engine.runComposeService({ project, service: 'worker', cmd: ['sh', '-c', 'while :; do :; done', 'perfbusy'] });
  await engine.runComposeService({ project, service: 'backend' });
  url = await server.createDatabase();
  await query(url, 'create extension if not exists pg_stat_statements');
  await query(url, 'create table orders (id int primary key, total numeric)');
  // A statement of 300 ms per call, over the 200 ms warning: the slow query /perf must find.
  for (let i = 0; i < 3; i++) await query(url, 'select pg_sleep(0.3), count(*) from orders');
  // A real lock wait: one session holds an exclusive lock in an open transaction, another waits for it.
  holder = new pg.Client({ connectionString: url, application_name: 'perf-holder' });
  waiter = new pg.Client({ connectionString: url, application_name: 'perf-waiter' });
  await Promise.all([holder.connect(), waiter.connect()]);
  await holder.query('begin');
  await holder.query('lock table orders in access exclusive mode');
  waiting = waiter.query('select count(*) from orders').catch(() => undefined);
  await until('the waiter is blocked', scaled(10_000), () => query<{ n: number }>(url, `select count(*)::int as n from pg_stat_activity where application_name = 'perf-waiter' and wait_event_type = 'Lock'`), (r) => r[0].n === 1);
  t = await startTestBot({
    targets: {
      local: false,
      postgres: { main: { url } },
      redis: { cache: { url: redis.url } },
      docker: { local: { socket: engine.socketPath, project } },
      hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } },
    },
    services: { worker: { docker: 'local', container: busy } },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    // The machine is shared with other work: its own load and busy neighbours must not outrank
    // what this test sets up, so host and process grading is out of the way.
    health: { thresholds: { load_per_core: { warn: 1000, crit: 2000 }, memory_percent: { warn: 99, crit: 100 } } },
    perf: { timeout: scaledDuration(8000), top: 8, thresholds: { process_cpu_percent: { warn: 1000, crit: 2000 }, process_memory_percent: { warn: 99, crit: 100 }, container_cpu_percent: { warn: 20, crit: 1000 } } },
  });
});
after(async () => {
  await holder?.query('rollback').catch(() => {});
  await waiting;
  await Promise.all([holder?.end(), waiter?.end()]);
  await t?.close();
  await tarpit?.stop();
  await redis?.stop();
  await ssh?.remove();
  await engine?.docker('rm', '-f', busy).catch(() => {});
});

describe('/perf', () => {
  test('the verdict names the lock wait and /db activity; the busy container, slow statement and Redis figures follow', async () => {
    const { reply } = await t.run('/perf');
    const text = messageText(reply);
    const holderPid = (await query<{ pid: number }>(url, `select pid from pg_stat_activity where application_name = 'perf-holder'`))[0].pid;
    // Locks come before CPU and slow statements among warnings: the waiting queries are what users feel.
    assert.match(text, new RegExp(`Most likely: on postgres main, 1 query waits for a lock held by pid ${holderPid} \\(for [^)]+\\)\\. Next: \`/db activity\``));
    assert.match(text, new RegExp(`Also \\(\\d+\\): [^\\n]*container ${busy} uses \\d+% CPU`));
    assert.match(text, /a statement takes 3\d\d ms per call on average \(3 calls\): select pg_sleep/);
    // The container's stats: about one CPU (the machine is shared, so anything from 40% up).
    const row = new RegExp(`${busy}\\s+(\\d+)%`).exec(text);
    assert.ok(row && Number(row[1]) >= 40, `busy container's CPU in:\n${text}`);
    // The host's top processes by CPU over SSH: the busy loop is among them.
    assert.match(text, /app1 \([^)]+\): load [\d.]+ on \d+ CPUs?, memory [\d.]+% used[^\n]*Top processes by CPU/);
    assert.match(text, /PID\s+%CPU\s+%MEM\s+RSS\s+USER\s+COMMAND[\s\S]*perfbusy/);
    assert.match(text, /app1: top processes by memory/);
    // Locks with who blocks whom, and the buffer cache hit ratio.
    assert.match(text, /⏳ pid \d+ \([^,]+, perf-waiter\) has waited/);
    assert.match(text, new RegExp(`← blocked by pid ${holderPid} \\([^,]+, perf-holder\\), idle in transaction`));
    assert.match(text, /Buffer cache hit ratio: [\d.]+%/);
    // Redis: a timed PING, memory and evictions.
    assert.match(text, /PING [\d.]+ ms · [^·]+ · evicted keys: 0 · clients: \d+/);
  });

  test('a Chinese channel reads the verdict and the figures in Chinese', async () => {
    const { reply } = await t.run('/perf', '', { channel: 'C0ZH' });
    const text = messageText(reply);
    assert.match(text, /最可能的原因：postgres main 上有 1 个查询在等待 pid \d+ 持有的锁（最长 [^）]+）。下一步：`\/db activity`/);
    assert.match(text, /CPU 占用最高的进程/);
    assert.match(text, /缓存命中率：/);
    assert.match(text, /淘汰的键：0/);
  });
});

describe('/perf with a host that never answers', () => {
  let hung: TestBot;
  before(async () => {
    hung = await startTestBot({
      targets: {
        local: false,
        postgres: { main: { url } },
        redis: { cache: { url: redis.url } },
        hosts: {
          app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint },
          // Accepts the connection and never speaks SSH.
          hung: { address: '127.0.0.1', port: tarpit.port, user: 'root', privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint, timeout: scaledDuration(1000) },
        },
      },
      health: { thresholds: { load_per_core: { warn: 1000, crit: 2000 } } },
      perf: { timeout: scaledDuration(20_000), thresholds: { process_cpu_percent: { warn: 1000, crit: 2000 } } },
    });
  });
  after(() => hung?.close());

  test('it is a ❌ line after its own timeout, and the other sources are all there', async () => {
    const started = Date.now();
    const { reply } = await hung.run('/perf');
    const took = Date.now() - started;
    const text = messageText(reply);
    // Whichever gives up first, the SSH handshake's limit or /perf's, it is the host's own 1 s.
    assert.match(text, /Most likely: host hung did not answer \((unreachable: no SSH handshake with 127\.0\.0\.1:\d+ within 1 s|timeout after 1 s)\)\. Next: `\/health host`/);
    assert.match(text, /host hung\*: (unreachable: no SSH handshake|unreachable: timeout after 1 s)/);
    assert.match(text, /app1 \([^)]+\): load/);
    assert.match(text, /Buffer cache hit ratio/);
    assert.match(text, /PING [\d.]+ ms/);
    // Its own 1 s, not perf.timeout's 20 s.
    assert.ok(took < scaled(8000), `the report took ${took} ms`);
  });
});
