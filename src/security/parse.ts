/**
 * The security templates' output (src/security/templates.ts) turned back into facts. A part the
 * login user could not read comes back as `{ readable: false, why }`, never as an empty list, so
 * that the report says "not checked" rather than "none found".
 */
import { SEC_MARK } from './templates.ts';

/** `why` is the host's own words (its shell's error); `key` a catalog key when opsbot itself knows the reason. */
export type Readable<F> = ({ readable: true } & F) | { readable: false; why: string; key?: string };

/** Splits marked output into parts; a marker line may carry words after its name. */
export function splitMarked(text: string): Array<{ name: string; arg: string; body: string[] }> {
  const parts: Array<{ name: string; arg: string; body: string[] }> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(SEC_MARK)) {
      const rest = line.slice(SEC_MARK.length);
      const sp = rest.indexOf(' ');
      parts.push({ name: sp < 0 ? rest : rest.slice(0, sp), arg: sp < 0 ? '' : rest.slice(sp + 1), body: [] });
    } else if (parts.length && line !== '') parts[parts.length - 1].body.push(line);
  }
  return parts;
}

export interface Accounts {
  uid0: string[];
  /** group → members (from getent group). */
  groups: Record<string, string[]>;
  /** Who sudoers grants rights to (users, %groups), when readable; files that were not readable. */
  sudoers: Readable<{ grants: Array<{ who: string; rule: string }>; unreadable: string[] }>;
}

export function parseAccounts(text: string): Accounts {
  const parts = splitMarked(text);
  const part = (n: string) => parts.find((p) => p.name === n);
  const groups: Record<string, string[]> = {};
  for (const line of part('groups')?.body ?? []) {
    const [name, , , members] = line.split(':');
    if (name) groups[name] = (members ?? '').split(',').map((m) => m.trim()).filter(Boolean);
  }
  const sudo = part('sudoers');
  const missing = parts.find((p) => p.name === 'missing');
  const top = parts.filter((p) => p.name === 'unreadable');
  let sudoers: Accounts['sudoers'];
  // /etc/sudoers itself unreadable: nothing is known of the rules.
  if (top.some((p) => p.arg === '/etc/sudoers')) sudoers = { readable: false, why: '/etc/sudoers', key: 'security:why.sudoers' };
  else if (missing) sudoers = { readable: true, grants: [], unreadable: [] };
  else {
    // Rules of the form "who host=(runas) commands"; Defaults, aliases and includes are not grants.
    const lines = [...(sudo?.body ?? []), ...top.flatMap((p) => p.body)];
    const grants = lines
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !/^(Defaults|[A-Z_]+_Alias|@include)/.test(l) && l.includes('='))
      .map((l) => ({ who: l.split(/\s+/)[0], rule: l.replace(/\s+/g, ' ') }));
    sudoers = { readable: true, grants, unreadable: top.map((p) => p.arg) };
  }
  return { uid0: part('uid0')?.body.map((l) => l.trim()).filter(Boolean) ?? [], groups, sudoers };
}

export interface AuthFacts {
  source: string;
  /** Failed logins per source address, most first. */
  failed: Array<{ address: string; count: number }>;
  rootLogins: string[];
  rootCount: number;
}

export function parseAuth(text: string): Readable<AuthFacts> {
  const parts = splitMarked(text);
  const bad = parts.find((p) => p.name === 'unreadable');
  if (bad) return { readable: false, why: bad.arg };
  const src = parts.find((p) => p.name === 'source');
  if (!src) return { readable: false, why: text.trim().slice(0, 200), key: text.trim() ? undefined : 'security:why.no_output' };
  const failed: AuthFacts['failed'] = [];
  const rootLogins: string[] = [];
  let rootCount = 0;
  for (const line of src.body) {
    const fail = /^fail (\d+) (\S+)$/.exec(line);
    if (fail) failed.push({ address: fail[2], count: Number(fail[1]) });
    else if (line.startsWith('root ')) rootLogins.push(line.slice(5));
    else if (line.startsWith('rootcount ')) rootCount = Number(line.slice(10));
  }
  failed.sort((a, b) => b.count - a.count || a.address.localeCompare(b.address));
  return { readable: true, source: src.arg, failed, rootLogins, rootCount };
}

export interface Updates {
  /** Seconds since the epoch of the newest package list; null when none was ever fetched. */
  listsAt: number | null;
  packages: Array<{ name: string; suite: string; version: string; security: boolean }>;
}

/** "openssl/bookworm-security 3.0.15-1~deb12u1 amd64 [upgradable from: 3.0.14-1~deb12u2]" */
export function parseUpdates(text: string): Readable<Updates> {
  const parts = splitMarked(text);
  if (parts.some((p) => p.name === 'noapt')) return { readable: false, why: '', key: 'security:why.no_apt' };
  const lists = parts.find((p) => p.name === 'lists')?.body[0];
  const packages = (parts.find((p) => p.name === 'upgradable')?.body ?? []).flatMap((line) => {
    const m = /^([^/\s]+)\/(\S+)\s+(\S+)/.exec(line);
    if (!m) return [];
    // Debian and Ubuntu publish security fixes in their own suites: bookworm-security, jammy-security.
    return [{ name: m[1], suite: m[2], version: m[3], security: m[2].split(',').some((s) => /-security$/.test(s)) }];
  });
  return { readable: true, listsAt: lists && /^\d+$/.test(lists.trim()) ? Number(lists.trim()) : null, packages };
}

export interface Firewall {
  /** Listening TCP sockets: local address and port. */
  listening: Array<{ address: string; port: number }>;
  rules: Readable<{ kind: 'iptables' | 'nft'; lines: string[] }>;
}

export function parseFirewall(text: string): Firewall {
  const parts = splitMarked(text);
  const listening = (parts.find((p) => p.name === 'listening')?.body ?? []).flatMap((line) => {
    const cols = line.trim().split(/\s+/);
    // With a header (old ss without -H) the first line is skipped by this match.
    const local = cols.length >= 5 ? cols[3] : '';
    const m = /^(.*):(\d+)$/.exec(local);
    return m ? [{ address: m[1].replace(/^\[|\]$/g, '').replace(/%.*$/, ''), port: Number(m[2]) }] : [];
  });
  const ipt = parts.find((p) => p.name === 'iptables');
  const nft = parts.find((p) => p.name === 'nft');
  const bad = parts.find((p) => p.name === 'unreadable');
  const rules: Firewall['rules'] = ipt ? { readable: true, kind: 'iptables', lines: ipt.body }
    : nft ? { readable: true, kind: 'nft', lines: nft.body }
      : { readable: false, why: bad?.arg ?? '', key: bad?.arg ? undefined : 'security:why.no_output' };
  return { listening, rules };
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;
export const isLoopback = (address: string) => LOOPBACK.test(address);
export const isWildcard = (address: string) => ['*', '0.0.0.0', '::', ''].includes(address);

/**
 * Whether the firewall keeps `port` to `allowed` networks: a DROP/REJECT for the port (or a
 * dropping INPUT policy), and no ACCEPT for it from outside those networks. The verdict names the
 * rules it rests on.
 */
export function portGuard(rules: { kind: 'iptables' | 'nft'; lines: string[] }, port: number, allowed: string[]): { guarded: boolean; open: string[]; evidence: string[] } {
  const about = rules.lines.filter((l) => new RegExp(`dport\\s+(\\{[^}]*\\b)?${port}\\b`).test(l));
  if (rules.kind === 'iptables') {
    const accepts = about.filter((l) => /-j ACCEPT\b/.test(l));
    const open = accepts.filter((l) => {
      const src = /-s (\S+)/.exec(l)?.[1];
      return !src || !allowed.includes(src);
    });
    const dropped = about.some((l) => /-j (DROP|REJECT)\b/.test(l) && !/-s /.test(l)) || rules.lines.some((l) => /^-P INPUT (DROP|REJECT)/.test(l));
    return { guarded: dropped && open.length === 0, open, evidence: about.length ? about : rules.lines.filter((l) => /^-P INPUT/.test(l)) };
  }
  const accepts = about.filter((l) => /\baccept\b/.test(l));
  const open = accepts.filter((l) => {
    const src = /saddr\s+(\S+)/.exec(l)?.[1];
    return !src || !allowed.includes(src);
  });
  const dropped = about.some((l) => /\b(drop|reject)\b/.test(l) && !/saddr/.test(l)) || rules.lines.some((l) => /hook input[^;]*;\s*policy drop/.test(l));
  return { guarded: dropped && open.length === 0, open, evidence: about.map((l) => l.trim()) };
}
