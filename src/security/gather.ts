/**
 * What /security check reads (manual §5.1 定期检查项, §5.3 访问控制): every database, Redis,
 * host part, certificate and the audit at once, each bounded by its own timeout, so that one
 * that does not answer is reported as such and never holds up the others. Only facts here;
 * src/security/report.ts grades them.
 */
import { source, type Outcome } from '../core/source.ts';
import { connect as tlsConnect } from 'node:tls';
import type { Config } from '../config/schema.ts';
import type { AuditWindow } from '../core/audit.ts';
import { errorMessage } from '../core/errors.ts';
import { outputOf } from '../targets/host-parse.ts';
import type { HostExecutor, PostgresExecutor, RedisSecurity, Targets } from '../targets/types.ts';
import { auditable, auditContainer, type ContainerDeps } from './deps-run.ts';
import { parseAccounts, parseAuth, parseFirewall, parseUpdates, type Accounts, type AuthFacts, type Firewall, type Readable, type Updates } from './parse.ts';

export type { Outcome };

export interface PgSecurity {
  me: string;
  roles: Array<{ name: string; superuser: boolean; createrole: boolean; bypassrls: boolean; login: boolean; bootstrap: boolean }>;
  /** Login roles and how their password is stored; never the stored value itself. */
  passwords: Readable<{ rows: Array<{ name: string; none: boolean; md5: boolean }> }>;
  encryption: string;
  versionNum: number;
  listen: string | null;
  /** pg_hba rules that let a remote address in without a password. */
  trust: Readable<{ rows: Array<{ line: number; database: string; user: string; address: string }> }>;
}

export interface TlsFacts {
  validTo: Date;
  subject: string;
  issuer: string;
  /** Why the chain is not trusted, when it is not (self-signed, expired, wrong name). */
  untrusted?: string;
}

export interface HostSecurity {
  name: string;
  where: string;
  accounts: Outcome<Accounts>;
  auth: Outcome<Readable<AuthFacts>>;
  updates: Outcome<Readable<Updates>>;
  firewall: Outcome<Firewall>;
}

export interface SecurityRun {
  at: number;
  postgres: Array<Outcome<PgSecurity>>;
  redis: Array<Outcome<RedisSecurity>>;
  hosts: HostSecurity[];
  tls: Array<Outcome<TlsFacts>>;
  audit: Outcome<AuditWindow>;
  /** pip-audit / npm audit in each service's container. */
  deps: Array<Outcome<ContainerDeps>>;
  since: Date;
}


/** A permission refusal is a finding ("not checked"); anything else is the source failing. */
async function readable<R>(read: () => Promise<R>): Promise<({ readable: true } & R) | { readable: false; why: string }> {
  try {
    return { readable: true, ...(await read()) };
  } catch (err) {
    if ((err as { code?: string }).code === '42501') return { readable: false, why: errorMessage(err) };
    throw err;
  }
}

export async function pgSecurity(pg: PostgresExecutor): Promise<PgSecurity> {
  const [roles, [settings], passwords, trust] = await Promise.all([
    pg.query<{ name: string; superuser: boolean; createrole: boolean; bypassrls: boolean; login: boolean; bootstrap: boolean }>(
      `select rolname as name, rolsuper as superuser, rolcreaterole as createrole, rolbypassrls as bypassrls, rolcanlogin as login, oid = 10 as bootstrap
         from pg_roles where rolsuper or rolcreaterole or rolbypassrls order by rolname`,
    ),
    pg.query<{ me: string; encryption: string; version: number; listen: string | null }>(
      `select current_user as me, current_setting('password_encryption') as encryption, current_setting('server_version_num')::int as version,
              (select setting from pg_settings where name = 'listen_addresses') as listen`,
    ),
    // Only whether a password is set and whether it is an md5 hash: the stored value never leaves the server.
    readable(async () => ({
      rows: await pg.query<{ name: string; none: boolean; md5: boolean }>(
        `select rolname as name, rolpassword is null as none, coalesce(rolpassword like 'md5%', false) as md5 from pg_authid where rolcanlogin order by rolname`,
      ),
    })),
    readable(async () => ({
      rows: await pg.query<{ line: number; database: string; user: string; address: string }>(
        `select line_number as line, array_to_string(database, ',') as database, array_to_string(user_name, ',') as "user", coalesce(address, '') as address
           from pg_hba_file_rules
          where auth_method = 'trust' and type like 'host%' and coalesce(address, '') not in ('127.0.0.1', '::1', 'samehost', 'localhost')
          order by line_number`,
      ),
    })),
  ]);
  return { me: settings.me, roles, passwords, encryption: settings.encryption, versionNum: settings.version, listen: settings.listen, trust };
}

/** Days left on the certificate served at host:port; the chain need not be trusted to be read. */
export function readCertificate(host: string, port: number, servername: string | undefined, timeoutMs: number): Promise<TlsFacts> {
  return new Promise((resolve, reject) => {
    const sni = servername ?? (/^[\d.:]+$/.test(host) ? undefined : host);
    const socket = tlsConnect({ host, port, servername: sni, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert || !cert.valid_to) return reject(new Error('no certificate presented'));
      const name = (x: unknown) => {
        const o = x as Record<string, string | string[]> | undefined;
        const cn = o?.CN;
        return Array.isArray(cn) ? cn.join(',') : cn ?? '';
      };
      resolve({
        validTo: new Date(cert.valid_to), subject: name(cert.subject), issuer: name(cert.issuer),
        untrusted: socket.authorized ? undefined : String(socket.authorizationError ?? ''),
      });
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no TLS handshake from ${host}:${port}`));
    });
    socket.once('error', reject);
  });
}

async function hostSecurity(host: HostExecutor, config: Config, timeoutMs: number): Promise<HostSecurity> {
  const sec = config.security;
  const run = (template: Parameters<HostExecutor['run']>[0], args: never[], parse: (text: string) => unknown) => source(host.name, host.where, timeoutMs, async () => {
    const r = await host.run(template, args as never, { timeoutMs, maxBytes: 512 * 1024 });
    return parse(outputOf(host.name, template, r));
  });
  const [accounts, auth, updates, firewall] = await Promise.all([
    run('securityAccounts', [], parseAccounts),
    run('securityAuthLog', [sec.auth_log, sec.auth_log_lines] as never[], parseAuth),
    run('securityUpdates', [], parseUpdates),
    run('securityFirewall', [], parseFirewall),
  ]);
  return {
    name: host.name, where: host.where,
    accounts: accounts as Outcome<Accounts>, auth: auth as Outcome<Readable<AuthFacts>>,
    updates: updates as Outcome<Readable<Updates>>, firewall: firewall as Outcome<Firewall>,
  };
}

export async function gatherSecurity(targets: Targets, config: Config, auditWindow: (since: Date) => Promise<AuditWindow>): Promise<SecurityRun> {
  const own = config.security.timeout;
  const tt = config.targets;
  const since = new Date(Date.now() - config.security.audit_window);
  // The audits bound themselves by deps_timeout and say so; this margin only catches a stuck engine.
  const depsLimit = config.security.deps_timeout + 5_000;
  const [postgres, redis, hosts, tls, audit, deps] = await Promise.all([
    Promise.all([...targets.postgres.values()].map((p) => source(p.name, p.where, tt.postgres[p.name]?.timeout ?? own, () => pgSecurity(p)))),
    Promise.all([...targets.redis.values()].map((r) => source(r.name, r.where, tt.redis[r.name]?.timeout ?? own, () => r.security()))),
    Promise.all([...targets.hosts.values()].map((h) => hostSecurity(h, config, tt.hosts[h.name]?.timeout ?? own))),
    Promise.all(config.security.tls.map((e) => {
      const where = `${e.host}:${e.port}`;
      return source(where, where, own, () => readCertificate(e.host, e.port, e.servername, own));
    })),
    source('audit', 'opsbot', own, () => auditWindow(since)),
    Promise.all(auditable(config).map(([name, s]) => source(name, s.container!, depsLimit, () => auditContainer(config, name)))),
  ]);
  return { at: Date.now(), postgres, redis, hosts, tls, audit, deps, since };
}
