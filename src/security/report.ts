/**
 * /security check's report: a verdict first (how many critical findings, warnings and parts not
 * checked), then one section per item of manual §5.1 定期检查项 and §5.3 访问控制. Every finding
 * carries its severity and the evidence it rests on. What could not be read is "not checked"
 * with the reason, never "passed": an unreadable auth log is not a clean one.
 */
import type { Config } from '../config/schema.ts';
import { errorMessage, UserError } from '../core/errors.ts';
import { STATUS_ICON, type Report, type Section, type Status } from '../core/report.ts';
import { TimeoutError } from '../core/timeout.ts';
import type { T } from '../i18n/index.ts';
import { limit } from '../targets/errors.ts';
import type { Outcome, SecurityRun } from './gather.ts';
import { parseWorkingHours, withinHours } from './hours.ts';
import type { AuditOutcome, NpmSeverity, VulnPackage } from './deps.ts';
import { isLoopback, isWildcard, portGuard, type Readable } from './parse.ts';

export type Severity = 'ok' | 'warn' | 'crit' | 'unchecked';
export interface Finding {
  sev: Severity;
  text: string;
}

const ICON: Record<Severity, string> = { ok: STATUS_ICON.ok, warn: STATUS_ICON.warn, crit: STATUS_ICON.crit, unchecked: '❔' };
const SECTIONS = ['permissions', 'passwords', 'logs', 'logins', 'patches', 'access'] as const;
type SectionName = (typeof SECTIONS)[number];

/** What a failed source said, in the reader's language where it is ours. */
function failure(t: T, o: Extract<Outcome<unknown>, { ok: false }>): string {
  const err = o.error;
  if (err instanceof TimeoutError) return t('checks:timeout', limit(o.timeoutMs));
  if (err instanceof UserError) return err.localized(t);
  return errorMessage(err);
}

const whyOf = (t: T, r: Extract<Readable<object>, { readable: false }>) => (r.key ? t(r.key, { what: r.why }) : r.why);

export function securityReport(t: T, config: Config, run: SecurityRun, took: number): Report {
  const out: Record<SectionName, Finding[]> = { permissions: [], passwords: [], logs: [], logins: [], patches: [], access: [] };
  const add = (s: SectionName, sev: Severity, key: string, params: Record<string, unknown> = {}) => out[s].push({ sev, text: t(key, params) });
  const down = (s: SectionName, label: string, o: Extract<Outcome<unknown>, { ok: false }>) =>
    out[s].push({ sev: 'unchecked', text: t('security:down', { label, reason: failure(t, o) }) });
  const sec = config.security;

  // PostgreSQL: 用户权限 (roles), 密码强度 (how passwords are stored), 访问控制 (listening and trust).
  for (const o of run.postgres) {
    const label = t('security:label.postgres', { name: o.name });
    if (!o.ok) {
      for (const s of ['permissions', 'passwords', 'access'] as const) down(s, label, o);
      continue;
    }
    const f = o.facts;
    for (const r of f.roles) {
      const powers = [r.superuser && 'superuser', r.createrole && 'createrole', r.bypassrls && 'bypassrls'].filter(Boolean).join(', ');
      // The bootstrap superuser (oid 10) is the one initdb made; any other is someone's choice.
      const sev: Severity = r.superuser && !r.bootstrap && r.login ? 'crit' : r.bootstrap ? 'ok' : 'warn';
      add('permissions', sev, r.bootstrap ? 'security:pg.role_bootstrap' : r.login ? 'security:pg.role' : 'security:pg.role_nologin', { label, role: r.name, powers });
    }
    if (!f.roles.length) add('permissions', 'ok', 'security:pg.no_roles', { label });
    const scram = f.versionNum >= 100000;
    add('passwords', f.encryption === 'scram-sha-256' ? 'ok' : scram ? 'warn' : 'warn', 'security:pg.encryption', { label, value: f.encryption });
    if (!f.passwords.readable) add('passwords', 'unchecked', 'security:pg.passwords_unreadable', { label, user: f.me, reason: f.passwords.why });
    else {
      const none = f.passwords.rows.filter((r) => r.none).map((r) => r.name);
      const md5 = f.passwords.rows.filter((r) => r.md5).map((r) => r.name);
      if (none.length) add('passwords', 'warn', 'security:pg.no_password', { label, roles: none, n: none.length });
      if (md5.length) add('passwords', 'warn', scram ? 'security:pg.md5' : 'security:pg.md5_old', { label, roles: md5, n: md5.length });
      if (!none.length && !md5.length) add('passwords', 'ok', 'security:pg.passwords_ok', { label, n: f.passwords.rows.length });
    }
    const everywhere = (f.listen ?? '').split(',').map((a) => a.trim()).some(isWildcard);
    if (!f.trust.readable) {
      add('access', 'unchecked', 'security:pg.hba_unreadable', { label, listen: f.listen ?? '?', user: f.me, reason: f.trust.why });
    } else if (f.trust.rows.length) {
      const rules = f.trust.rows.map((r) => t('security:pg.hba_rule', { line: r.line, database: r.database, user: r.user, address: r.address || 'all' }));
      add('access', everywhere ? 'crit' : 'warn', 'security:pg.trust', { label, listen: f.listen ?? '?', rules });
    } else add('access', 'ok', everywhere ? 'security:pg.listen_all_auth' : 'security:pg.listen', { label, listen: f.listen ?? '?' });
  }

  // Redis: 密码强度 (requirepass, the default ACL user) and 访问控制 (bind, protected mode).
  for (const o of run.redis) {
    const label = t('security:label.redis', { name: o.name });
    if (!o.ok) {
      down('passwords', label, o);
      down('access', label, o);
      continue;
    }
    const f = o.facts;
    const def = f.aclUsers?.find((u) => u.name === 'default');
    const nopassUsers = (f.aclUsers ?? []).filter((u) => u.on && u.nopass).map((u) => u.name);
    // Without a password anyone who can connect is in: requirepass unset and no ACL password on default.
    let open: boolean | null;
    if (f.aclUsers) open = !!def && def.on && def.nopass;
    else if (f.requirepass !== null) open = !f.requirepass;
    else open = f.authenticated ? false : null;
    if (open === null) add('passwords', 'unchecked', 'security:redis.unreadable', { label, reason: f.aclError ?? f.configError ?? '?' });
    else if (open) add('passwords', 'crit', 'security:redis.no_password', { label, evidence: f.aclUsers ? t('security:redis.acl_evidence') : t('security:redis.requirepass_evidence') });
    else add('passwords', 'ok', 'security:redis.password', { label });
    if (nopassUsers.some((u) => u !== 'default')) add('passwords', 'warn', 'security:redis.nopass_users', { label, users: nopassUsers.filter((u) => u !== 'default') });
    if (f.bind === null) add('access', 'unchecked', 'security:redis.bind_unreadable', { label, reason: f.configError ?? '?' });
    else {
      const all = f.bind.trim() === '' || f.bind.split(/\s+/).map((a) => a.replace(/^-/, '')).some(isWildcard);
      const sev: Severity = all && open ? 'crit' : all && open === null ? 'unchecked' : 'ok';
      add('access', sev, all ? (open ? 'security:redis.exposed' : 'security:redis.all_interfaces') : 'security:redis.bound', { label, bind: f.bind || '""', mode: f.protectedMode ?? '?' });
    }
  }

  // Hosts: accounts, logins, updates and the firewall, each its own part with its own outcome.
  for (const h of run.hosts) {
    const label = t('security:label.host', { name: h.name });
    const a = h.accounts;
    if (!a.ok) down('permissions', label, a);
    else {
      const f = a.facts;
      const others = f.uid0.filter((u) => u !== 'root');
      add('permissions', others.length ? 'crit' : 'ok', others.length ? 'security:host.uid0_extra' : 'security:host.uid0', { label, users: f.uid0, n: f.uid0.length });
      const members = Object.entries(f.groups).filter(([, m]) => m.length);
      if (members.length) add('permissions', 'warn', 'security:host.sudo_groups', { label, groups: members.map(([g, m]) => `${g}: ${m.join(', ')}`) });
      else add('permissions', 'ok', 'security:host.sudo_groups_empty', { label, groups: Object.keys(f.groups).length ? Object.keys(f.groups) : ['sudo', 'wheel', 'admin'] });
      if (!f.sudoers.readable) add('permissions', 'unchecked', 'security:host.sudoers_unreadable', { label, reason: whyOf(t, f.sudoers) });
      else {
        const grants = f.sudoers.grants.filter((g) => g.who !== 'root');
        if (grants.length) add('permissions', 'warn', 'security:host.sudoers', { label, rules: grants.map((g) => g.rule) });
        else add('permissions', 'ok', 'security:host.sudoers_none', { label });
        if (f.sudoers.unreadable.length) add('permissions', 'unchecked', 'security:host.sudoers_partly', { label, files: f.sudoers.unreadable });
      }
    }

    const au = h.auth;
    if (!au.ok) down('logins', label, au);
    else if (!au.facts.readable) add('logins', 'unchecked', 'security:host.auth_unreadable', { label, reason: whyOf(t, au.facts) });
    else {
      const f = au.facts;
      const source = f.source.startsWith('file') ? f.source.slice(5) : t('security:host.journal');
      const lines = sec.auth_log_lines;
      if (!f.failed.length) add('logins', 'ok', 'security:host.no_failed', { label, source, lines });
      for (const x of f.failed.slice(0, 10)) {
        const sev: Severity = x.count >= sec.failed_logins.crit ? 'crit' : x.count >= sec.failed_logins.warn ? 'warn' : 'ok';
        add('logins', sev, 'security:host.failed', { label, address: x.address, n: x.count, source });
      }
      if (f.failed.length > 10) add('logins', 'warn', 'security:host.failed_more', { label, n: f.failed.length - 10 });
      if (f.rootCount) add('logins', 'warn', 'security:host.root_logins', { label, n: f.rootCount, source, last: f.rootLogins.slice(-3).map((l) => l.slice(0, 160)) });
      else add('logins', 'ok', 'security:host.no_root_logins', { label, source });
    }

    const up = h.updates;
    if (!up.ok) down('patches', label, up);
    else if (!up.facts.readable) add('patches', 'unchecked', 'security:host.updates_unreadable', { label, reason: whyOf(t, up.facts) });
    else if (up.facts.listsAt === null) add('patches', 'unchecked', 'security:host.lists_never', { label });
    else {
      const f = up.facts;
      const secPk = f.packages.filter((p) => p.security);
      const age = Math.max(0, run.at - f.listsAt! * 1000);
      const asOf = t('security:host.lists_age', { at: t.time(f.listsAt! * 1000), age: t.duration(age) });
      if (secPk.length) add('patches', 'crit', 'security:host.security_updates', { label, n: secPk.length, all: f.packages.length, names: secPk.slice(0, 10).map((p) => `${p.name} ${p.version}`), asOf });
      else if (f.packages.length) add('patches', 'warn', 'security:host.updates', { label, n: f.packages.length, names: f.packages.slice(0, 10).map((p) => p.name), asOf });
      else add('patches', 'ok', 'security:host.up_to_date', { label, asOf });
      // Lists older than a week may not know of this week's fixes.
      if (age > 7 * 86_400_000) add('patches', 'warn', 'security:host.lists_old', { label, age: t.duration(age) });
    }

    const fw = h.firewall;
    if (!fw.ok) down('access', label, fw);
    else {
      for (const port of sec.app_ports) {
        const socks = fw.facts.listening.filter((l) => l.port === port);
        if (!socks.length) {
          add('access', 'ok', 'security:host.port_closed', { label, port });
          continue;
        }
        if (socks.every((s) => isLoopback(s.address))) {
          add('access', 'ok', 'security:host.port_local', { label, port, addresses: socks.map((s) => s.address) });
          continue;
        }
        const addresses = socks.map((s) => s.address || '*');
        if (!fw.facts.rules.readable) {
          add('access', 'unchecked', 'security:host.rules_unreadable', { label, port, addresses, reason: whyOf(t, fw.facts.rules) });
          continue;
        }
        const g = portGuard(fw.facts.rules, port, sec.allowed_networks);
        const evidence = g.evidence.slice(0, 5).map((l) => l.trim());
        if (g.guarded) add('access', 'ok', 'security:host.port_guarded', { label, port, allowed: sec.allowed_networks, evidence, kind: fw.facts.rules.kind });
        else add('access', 'crit', 'security:host.port_open', { label, port, addresses, allowed: sec.allowed_networks, evidence: evidence.length ? evidence : [t('security:host.no_rule')], kind: fw.facts.rules.kind });
      }
    }
  }

  // 访问控制: the certificates Nginx serves.
  for (const o of run.tls) {
    const label = t('security:label.tls', { name: o.name });
    if (!o.ok) {
      down('access', label, o);
      continue;
    }
    const days = Math.floor((o.facts.validTo.getTime() - run.at) / 86_400_000);
    const sev: Severity = days <= sec.tls_days.crit ? 'crit' : days <= sec.tls_days.warn ? 'warn' : 'ok';
    add('access', sev, days < 0 ? 'security:tls.expired' : 'security:tls.days', { label, days, n: Math.abs(days), at: t.time(o.facts.validTo), subject: o.facts.subject || '?', issuer: o.facts.issuer || '?' });
    if (o.facts.untrusted) add('access', 'warn', 'security:tls.untrusted', { label, reason: o.facts.untrusted });
  }
  if (!sec.tls.length) add('access', 'unchecked', 'security:tls.none');

  // 用户权限 in opsbot itself: who holds which role, who may approve what (from config).
  for (const [role, members] of Object.entries(config.roles)) add('permissions', 'ok', 'security:bot.role', { role, members: members.length ? members.map((m) => `<@${m}>`) : ['—'], n: members.length });
  for (const [key, rule] of Object.entries(config.approvals.rules)) add('permissions', 'ok', 'security:bot.rule', { key, approvers: rule.approvers, n: rule.count });
  const bg = config.approvals.break_glass;
  if (bg.enabled) add('permissions', bg.roles.length ? 'ok' : 'warn', bg.roles.length ? 'security:bot.break_glass_roles' : 'security:bot.break_glass_anyone', { roles: bg.roles });

  // 操作日志: opsbot's own audit over the window.
  const au = run.audit;
  const window = t.duration(sec.audit_window);
  if (!au.ok) down('logs', t('security:label.audit'), au);
  else {
    const w = au.facts;
    // A refusal of a subcommand is audited under its parent (/cache): its first word says which one.
    const what = (r: { command: string; args: string }) => {
      const sub = /^[a-z][a-z-]*(?=\s|$)/.exec(r.args)?.[0];
      return sub && !r.command.includes(' ') ? `/${r.command} ${sub}` : `/${r.command}`;
    };
    const who = (rows: Array<{ actor: string; command: string; args: string }>) => {
      const n = new Map<string, number>();
      for (const r of rows) n.set(`<@${r.actor}> ${what(r)}`, (n.get(`<@${r.actor}> ${what(r)}`) ?? 0) + 1);
      return [...n].map(([k, c]) => `${k} ×${c}`).slice(0, 10);
    };
    if (w.breakGlass.total) add('logs', 'warn', 'security:audit.break_glass', { n: w.breakGlass.total, window, uses: w.breakGlass.rows.slice(0, 5).map((r) => `${t.time(r.at)} <@${r.actor}> /${r.command} (${String((r.detail as { reason?: string }).reason ?? '')})`) });
    else add('logs', 'ok', 'security:audit.no_break_glass', { window });
    if (w.denied.total) add('logs', 'warn', 'security:audit.denied', { n: w.denied.total, window, who: who(w.denied.rows) });
    else add('logs', 'ok', 'security:audit.no_denied', { window });
    const hours = parseWorkingHours(sec.working_hours)!;
    const late = w.destructive.filter((d) => !withinHours(new Date(d.at), hours, config.timezone));
    if (late.length) add('logs', 'warn', 'security:audit.after_hours', { n: late.length, window, hours: sec.working_hours, actions: late.slice(0, 5).map((d) => `${t.time(d.at)} /${d.command} (${d.id}, <@${d.requester}>)`) });
    else add('logs', 'ok', 'security:audit.in_hours', { n: w.destructive.length, window, hours: sec.working_hours });
  }

  // 漏洞与补丁 inside the app's containers: pip-audit / npm audit where they are installed. What
  // did not give a report is "not checked" with the reason; only a report with no vulnerability is ok.
  if (!run.deps.length) add('patches', 'unchecked', 'security:deps.no_services');
  for (const o of run.deps) {
    const label = t('security:label.service', { service: o.name, container: o.where });
    if (!o.ok) {
      down('patches', label, o);
      continue;
    }
    const d = o.facts;
    if (!d.reached) {
      add('patches', 'unchecked', `security:deps.${d.why}`, { label, detail: d.detail, limit: t.duration(sec.deps_timeout) });
      continue;
    }
    const absent = (a: AuditOutcome) => !a.checked && a.why === 'not_installed';
    if (absent(d.pip) && absent(d.npm)) {
      add('patches', 'unchecked', 'security:deps.none_installed', { label });
      continue;
    }
    // The tool that is not there does not apply when the other one is (a Python app has no npm).
    // i18n-exempt: the tools' command names
    for (const [tool, a] of [['pip-audit', d.pip], ['npm audit', d.npm]] as const) {
      if (absent(a)) continue;
      if (!a.checked) {
        const why = t(`security:deps.why.${a.why}`, { detail: a.detail, workdir: d.workdir, limit: t.duration(sec.deps_timeout) });
        add('patches', 'unchecked', 'security:deps.unchecked', { label, tool, why });
        continue;
      }
      depsFindings(t, (sev, key, params) => add('patches', sev, key, { label, tool, ...params }), tool, a);
    }
  }

  return render(t, out, run, took);
}

/** How many packages one finding lists; the rest are counted. */
const LISTED = 10;

/** One tool's report: the vulnerable packages with their advisories and fixes, or that there were none. */
function depsFindings(t: T, add: (sev: Severity, key: string, params: Record<string, unknown>) => void, tool: 'pip-audit' | 'npm audit', a: Extract<AuditOutcome, { checked: true }>) {
  const v = a.vulnerable;
  if (!v.length) add('ok', a.packages === null ? 'security:deps.clean_unknown' : 'security:deps.clean', { n: a.packages ?? 0 });
  else {
    const fix = (p: VulnPackage) => (p.fix.length ? t('security:deps.fixed_in', { versions: p.fix.join(', ') }) : t('security:deps.no_fix'));
    const sevWord = (s: NpmSeverity) => t(`security:deps.severity.${s}`);
    const items = v.slice(0, LISTED).map((p) => t(p.severity ? 'security:deps.item_npm' : 'security:deps.item_pip', { name: p.name, version: p.version, ids: p.ids.join(', ') || '?', fix: fix(p), severity: p.severity ? sevWord(p.severity) : '' }));
    if (v.length > LISTED) items.push(t('security:deps.more', { n: v.length - LISTED }));
    if (tool === 'pip-audit') {
      // pip-audit gives no severity: every known vulnerability is a warning, with its ids and fixes.
      add('warn', 'security:deps.pip_vulns', { count: v.length, packages: a.packages ?? '?', items });
    } else {
      const counts = (['critical', 'high', 'moderate', 'low', 'info'] as const)
        .map((s) => [s, v.filter((p) => p.severity === s).length] as const).filter(([, n]) => n)
        .map(([s, n]) => `${sevWord(s)} ${n}`).join(', ');
      const worst = v.some((p) => p.severity === 'critical' || p.severity === 'high') ? 'crit' : 'warn';
      add(worst, 'security:deps.npm_vulns', { count: v.length, counts, items });
    }
  }
  if (a.skipped.length) add('unchecked', 'security:deps.skipped', { count: a.skipped.length, names: a.skipped.slice(0, LISTED) });
}

function render(t: T, out: Record<SectionName, Finding[]>, run: SecurityRun, took: number): Report {
  const all = SECTIONS.flatMap((s) => out[s]);
  const n = (sev: Severity) => all.filter((f) => f.sev === sev).length;
  const [crit, warn, unchecked] = [n('crit'), n('warn'), n('unchecked')];
  // Nothing wrong in what could be read is not a pass when parts could not be read.
  const status: Status = crit ? 'crit' : warn ? 'warn' : unchecked ? 'info' : 'ok';
  const top = all.filter((f) => f.sev === 'crit').slice(0, 3).map((f) => f.text);
  const summary = [
    crit ? t('security:verdict.crit', { icon: STATUS_ICON.crit, count: crit, warn, unchecked })
      : warn ? t('security:verdict.warn', { icon: STATUS_ICON.warn, count: warn, unchecked })
        : unchecked ? t('security:verdict.unchecked', { icon: ICON.unchecked, count: unchecked })
          : t('security:verdict.clear', { icon: STATUS_ICON.ok }),
    ...top.map((x) => `• ${x}`),
  ].join('\n');
  const sevWord = (s: Severity) => t(`security:sev.${s}`);
  const sections: Section[] = SECTIONS.map((s) => ({
    title: t(`security:section.${s}`),
    lines: out[s].length ? out[s].map((f) => `${ICON[f.sev]} ${sevWord(f.sev)} · ${f.text}`) : [t('security:nothing')],
  }));
  return {
    title: t('security:title'),
    status,
    summary,
    sections,
    footer: t('security:footer', { took: t.duration(took), at: t.time(run.at), since: t.time(run.since) }),
  };
}
