/**
 * /security check against real servers: PostgreSQL with a planted superuser and an md5 login
 * role, Redis without a password, an SSH host whose auth log holds failed logins from a planted
 * address, a TLS server whose self-signed certificate expires in 3 days, a host that cannot be
 * reached, and audit rows made by a real refusal and a real break-glass run through the bot.
 * What cannot be read (pg_authid as a plain role, a missing auth log) is "not checked", never ok.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { sharedPostgres } from '../harness/postgres.ts';
import { startRedis, type RedisServer } from '../harness/redis.ts';
import { startSshd, type SshHost } from '../harness/sshd.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { query } from '../helpers/sql.ts';
import { scaledDuration } from '../helpers/wait.ts';

const tag = `sec${process.pid}`;
const SUPER = `${tag}_intruder`;
const MD5 = `${tag}_legacy`;
const PLAIN = `${tag}_plain`;
const PLANTED = '203.0.113.77';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

let ssh: SshHost;
let redis: RedisServer;
let tls: Server;
let tlsPort: number;
let url: string;
let plainUrl: string;
let dir: string;
let t: TestBot;

function authLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) lines.push(`2026-03-02T03:0${i % 10}:00.000000+00:00 web1 sshd[${1000 + i}]: Failed password for invalid user admin from ${PLANTED} port ${40000 + i} ssh2`);
  lines.push('2026-03-02T03:10:00.000000+00:00 web1 sshd[2000]: Failed password for ops from 198.51.100.9 port 50000 ssh2');
  lines.push('2026-03-02T03:11:00.000000+00:00 web1 sshd[2001]: Accepted publickey for root from 198.51.100.10 port 50001 ssh2: ED25519 SHA256:abc');
  lines.push('2026-03-02T03:12:00.000000+00:00 web1 sshd[2002]: Accepted publickey for ops from 198.51.100.11 port 50002 ssh2');
  return `${lines.join('\n')}\n`;
}

before(async () => {
  let server;
  [ssh, redis, server] = await Promise.all([startSshd(), startRedis(), sharedPostgres()]);
  url = await server.createDatabase();
  // Roles are the cluster's, not the database's: named per run and dropped after.
  await query(url, `create role ${SUPER} login superuser password 'planted-superuser-pw'`);
  await query(url, `create role ${PLAIN} login password 'plain-pw'`);
  await query(url, `set password_encryption = 'md5'; create role ${MD5} login password 'legacy-pw'`);
  const u = new URL(url);
  u.username = PLAIN;
  u.password = 'plain-pw';
  plainUrl = u.toString();

  // The auth log lives in the SSH user's home, readable by that user: read over SSH like /var/log/auth.log.
  writeFileSync(join(ssh.home, 'auth.log'), authLog());
  chmodSync(join(ssh.home, 'auth.log'), 0o644);

  // A certificate that expires in 3 days, made with the openssl CLI, served by node:tls.
  dir = mkdtempSync(join(tmpdir(), 'opsbot-sec-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '3', '-subj', '/CN=sec.test'], { stdio: 'ignore' });
  tls = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (s) => s.end());
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  tlsPort = (tls.address() as { port: number }).port;

  // Working hours on a day that is not today (UTC), so the break-glass run below is outside them.
  const other = DAYS[(new Date().getUTCDay() + 3) % 7];
  const host = { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint };
  t = await startTestBot({
    timezone: 'UTC',
    targets: {
      local: false,
      postgres: { main: { url }, app: { url: plainUrl } },
      redis: { cache: { url: redis.url } },
      hosts: { app1: host, gone: { ...host, port: 1, timeout: scaledDuration(3000) } },
    },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { operator: ['U0ONCALL'], approver: ['U0MANAGER'] },
    permissions: { cache: ['operator'] },
    approvals: { break_glass: { enabled: true, roles: ['operator'] } },
    security: {
      timeout: scaledDuration(15_000),
      auth_log: join(ssh.home, 'auth.log'),
      working_hours: `09:00-10:00 ${other}`,
      tls: [{ host: '127.0.0.1', port: tlsPort }],
    },
  });
  // Real audit rows: a refusal (no role) and a break-glass run of a destructive command.
  await t.run('/cache', 'flush cache', { user: 'U0STRANGER' });
  await t.run('/cache', 'flush cache --break-glass "cache poisoned, flushing now"', { user: 'U0ONCALL' });
});

after(async () => {
  await t?.close();
  for (const r of [SUPER, MD5, PLAIN]) await query(url, `drop role if exists ${r}`).catch(() => {});
  await new Promise<void>((r) => (tls ? tls.close(() => r()) : r()));
  await redis?.stop();
  await ssh?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The report's line that contains `needle`. */
function line(text: string, needle: string | RegExp): string {
  const found = text.split('\n').find((l) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l)));
  assert.ok(found, `no line with ${needle} in:\n${text}`);
  return found;
}

async function check(channel?: string): Promise<string> {
  // The audit batch is written within its interval; the check reads committed rows.
  await new Promise((r) => setTimeout(r, 300));
  const { reply } = await t.run('/security', 'check', channel ? { channel } : {});
  return messageText(reply);
}

describe('/security check', () => {
  let text: string;
  before(async () => {
    text = await check();
  });

  test('opens with a verdict naming the critical findings', () => {
    assert.match(text, /❌ \d+ critical findings?, \d+ warnings?, \d+ not checked\. Critical:/);
    assert.match(text, new RegExp(`• postgres main: role ${SUPER} can log in and has superuser`));
  });

  test('user permissions: the planted superuser is critical, the bootstrap one expected, opsbot roles listed', () => {
    assert.match(text, new RegExp(`❌ crit · postgres main: role ${SUPER} can log in and has superuser[^\\n]*\\(pg_roles\\)`));
    assert.match(text, /✅ ok · postgres main: \S+ is the bootstrap superuser made by initdb/);
    assert.match(line(text, 'host app1: only root has UID 0'), /✅ ok/);
    assert.match(text, /opsbot role operator: <@U0ONCALL>/);
    assert.match(text, /opsbot break-glass is enabled for operator/);
  });

  test('password strength: md5 hash and no Redis password found, no hash shown; a plain role cannot read pg_authid', () => {
    assert.match(line(text, `md5 hash present for`), new RegExp(`⚠️ warn · postgres main: md5 hash present for [^\\n]*${MD5}`));
    assert.doesNotMatch(text, /md5[0-9a-f]{32}|SCRAM-SHA-256\$|\*\*\*/);
    assert.match(text, /postgres main: password_encryption is scram-sha-256/);
    assert.match(text, /❌ crit · redis cache has no password, so anyone [^\n]*\(ACL LIST: user default on nopass\)/);
    assert.match(line(text, `postgres app: login roles' passwords not checked`), new RegExp(`❔ not checked · [^\\n]*opsbot connects as ${PLAIN} \\(permission denied`));
  });

  test('operation logs: the break-glass use, the refusal and the action outside working hours', () => {
    assert.match(line(text, 'break-glass used'), /⚠️ warn · break-glass used 1 times in the last 7 d[^:]*: [^\n]*<@U0ONCALL> \/cache flush \(cache poisoned, flushing now\)/);
    assert.match(line(text, 'refused attempts'), /⚠️ warn · refused attempts in the last [^:]+: 1: <@U0STRANGER> \/cache flush ×1/);
    assert.match(line(text, 'outside working hours'), /⚠️ warn · destructive actions outside working hours \(09:00-10:00 \w{3}\)[^:]*: 1: [^\n]*\/cache flush \(r-\d+, <@U0ONCALL>\)/);
  });

  test('abnormal logins: failed logins per address from the auth log and the root login', () => {
    assert.match(line(text, `from ${PLANTED}`), new RegExp(`⚠️ warn · host app1: failed SSH logins from ${PLANTED.replaceAll('.', '\\.')}: 12 \\(`));
    assert.match(line(text, 'from 198.51.100.9'), /✅ ok · host app1: failed SSH logins from 198\.51\.100\.9: 1/);
    assert.match(line(text, 'successful root logins'), /⚠️ warn · host app1: successful root logins over SSH: 1 [^\n]*198\.51\.100\.10/);
  });

  test('access control: the certificate expiring in 3 days is critical; pip-audit is not checked, never passed', () => {
    assert.match(line(text, `certificate 127.0.0.1:${tlsPort}: expires`), /❌ crit · certificate [^:]+:\d+: expires in [23] days[^\n]*subject sec\.test/);
    assert.match(text, /⚠️ warn · certificate [^:]+:\d+: the chain is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    assert.match(text, /❔ not checked · pip-audit \/ npm audit not checked/);
    for (const l of text.split('\n').filter((x) => x.includes('not checked'))) assert.doesNotMatch(l, /✅/);
  });

  test('a host that cannot be reached is reported in each of its parts, without holding up the rest', () => {
    for (const section of ['User permissions', 'Abnormal logins', 'Vulnerabilities and patches', 'Access control']) assert.match(text, new RegExp(section));
    const gone = text.split('\n').filter((l) => l.includes('host gone: not checked, did not answer'));
    assert.equal(gone.length, 4, text);
  });

  test('no password or secret reaches the report', () => {
    for (const secret of ['planted-superuser-pw', 'legacy-pw', 'plain-pw']) assert.ok(!text.includes(secret), secret);
  });

  test('a Chinese channel reads it in the manual\'s terms', async () => {
    const zh = await check('C0ZH');
    for (const s of ['用户权限', '密码强度', '操作日志', '异常登录', '漏洞与补丁', '访问控制']) assert.match(zh, new RegExp(s));
    assert.match(zh, /❌ 严重 · redis cache：没有密码/);
    assert.match(zh, new RegExp(`来自 ${PLANTED.replaceAll('.', '\\.')} 的 SSH 登录失败：12 次`));
    assert.match(zh, /❔ 未检查 · pip-audit \/ npm audit 未检查/);
  });
});

describe('/security check when the auth log cannot be read', () => {
  let other: TestBot;
  before(async () => {
    other = await startTestBot({
      targets: { local: false, hosts: { app1: { address: ssh.host, port: ssh.port, user: ssh.user, privateKeyFile: ssh.privateKeyPath, hostKey: ssh.hostKeyFingerprint } } },
      security: { timeout: scaledDuration(15_000), auth_log: join(ssh.home, 'no-such.log') },
    });
  });
  after(async () => {
    await other?.close();
  });

  test('says not checked and why, and the verdict is not a pass', async () => {
    const text = messageText((await other.run('/security', 'check')).reply);
    assert.match(line(text, 'SSH logins not checked'), /❔ not checked · host app1: SSH logins not checked: [^\n]*no-such\.log does not exist/);
    assert.doesNotMatch(text, /Every part was checked/);
  });
});
