/**
 * What /security check runs on a host (manual §5.1, §5.3). They join the host templates
 * (src/targets/templates.ts): fixed scripts whose values arrive as positional parameters, never
 * parsed as shell code. None needs root: what the login user cannot read is reported as such
 * (a marker line with the reason), so the report can say "not checked" instead of "passed".
 */
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

/** Separates the parts of these scripts' output; a line no passwd, log or rule listing holds. */
export const SEC_MARK = '@@opsbot-sec@@';

function count(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000_000) throw new UserError(msg('targets:values.count', { what, value: n }));
  return String(n);
}

function absPath(path: string): string {
  if (!/^\/[^\0\n]*$/.test(path)) throw new UserError(msg('security:values.path', { path }));
  return path;
}

// 用户权限: accounts with UID 0, the members of the groups that sudo grants rights to by
// default (Debian's sudo, Red Hat's wheel, old Ubuntu's admin), and the sudoers rules when this
// user may read them (normally only root can: then "unreadable" and why).
// i18n-exempt: a shell script run on the host
const ACCOUNTS = String.raw`M=${SEC_MARK}
echo "$M"uid0
getent passwd | awk -F: '$3 == 0 { print $1 }'
echo "$M"groups
for g in sudo wheel admin; do getent group "$g"; done
echo "$M"sudoers
if [ -r /etc/sudoers ]; then
  cat /etc/sudoers 2>/dev/null
  for f in /etc/sudoers.d/*; do [ -f "$f" ] || continue; if [ -r "$f" ]; then cat "$f"; else echo "$M"unreadable "$f"; fi; done
else
  if [ -e /etc/sudoers ]; then echo "$M"unreadable /etc/sudoers; else echo "$M"missing /etc/sudoers; fi
fi`;

// 异常登录: failed SSH logins counted per source address and successful root logins (the last
// 20), from the last $2 lines of the auth log $1, or else from the ssh unit's journal. Counting
// happens on the host, so a brute-force attack of a million lines sends a few lines back.
// i18n-exempt: an awk program run on the host
const AUTH_AWK = String.raw`/sshd\[[0-9]+\]: Failed [a-z-]+ for / { if (match($0, / from [0-9a-fA-F.:]+ /)) { a = substr($0, RSTART + 6, RLENGTH - 7); n[a]++ } }
/sshd\[[0-9]+\]: Accepted [a-z-]+ for root from / { r[k++ % 20] = $0 }
END { for (a in n) print "fail", n[a], a; s = k > 20 ? k - 20 : 0; for (i = s; i < k; i++) print "root", r[i % 20]; print "rootcount", k + 0 }`;
// i18n-exempt: a shell script run on the host
const AUTH_LOG = String.raw`M=${SEC_MARK}
case $2 in ""|*[!0-9]*) echo "bad lines: $2" >&2; exit 2;; esac
if [ -f "$1" ] && [ -r "$1" ]; then
  echo "$M"source file "$1"
  tail -n "$2" -- "$1" | awk "$3"
  exit 0
fi
if [ -e "$1" ]; then why="cannot read $1"; else why="$1 does not exist"; fi
if command -v journalctl >/dev/null 2>&1; then
  out=$(journalctl --no-pager -o short -u ssh -u sshd -n "$2" 2>&1)
  case $out in
    *"insufficient permissions"*|*"No journal files"*|*"not seeing messages"*) why="$why; journalctl: $(printf '%s\n' "$out" | grep -i -m1 -e permission -e journal)";;
    *) echo "$M"source journal; printf '%s\n' "$out" | awk "$3"; exit 0;;
  esac
else
  why="$why; journalctl not found"
fi
echo "$M"unreadable "$why"`;

// 漏洞与补丁: packages with a newer version in the package lists the host already has (no
// download: apt-get update needs root), and when those lists were last fetched, because lists
// never fetched would make "nothing pending" a lie.
// i18n-exempt: a shell script run on the host
const UPDATES = String.raw`M=${SEC_MARK}
if ! command -v apt >/dev/null 2>&1; then echo "$M"noapt; exit 0; fi
echo "$M"lists
for f in /var/lib/apt/lists/*Release; do [ -f "$f" ] && stat -c %Y "$f"; done | sort -n | tail -n 1
echo "$M"upgradable
apt list --upgradable 2>/dev/null | grep -F '[upgradable from'
exit 0`;

// 访问控制 (§5.3 防火墙配置): the firewall rules when this user may read them (iptables -S, else
// nft list ruleset), and what listens on which address (ss needs no privilege).
// i18n-exempt: a shell script run on the host
const FIREWALL = String.raw`M=${SEC_MARK}
echo "$M"listening
ss -ltnH 2>/dev/null || ss -ltn
why=""
if command -v iptables >/dev/null 2>&1; then
  if out=$(iptables -S 2>&1); then echo "$M"iptables; printf '%s\n' "$out"; exit 0; fi
  why="iptables: $(printf '%s' "$out" | head -n 1)"
else why="iptables not found"; fi
if command -v nft >/dev/null 2>&1; then
  if out=$(nft list ruleset 2>&1); then echo "$M"nft; printf '%s\n' "$out"; exit 0; fi
  why="$why; nft: $(printf '%s' "$out" | head -n 1)"
else why="$why; nft not found"; fi
echo "$M"unreadable "$why"`;

export const securityTemplates = {
  /** UID 0 accounts, sudo/wheel/admin members and readable sudoers rules (see ACCOUNTS). */
  securityAccounts: () => ['sh', '-c', ACCOUNTS],
  /** Failed SSH logins per address and root logins from the last `lines` lines of `path`, else the journal. */
  securityAuthLog: (path: string, lines: number) => ['sh', '-c', AUTH_LOG, 'opsbot-auth', absPath(path), count(lines, 'lines'), AUTH_AWK],
  /** Pending package updates and the age of the package lists. */
  securityUpdates: () => ['sh', '-c', UPDATES],
  /** Listening sockets and the firewall rules, when readable. */
  securityFirewall: () => ['sh', '-c', FIREWALL],
} satisfies Record<string, (...args: never[]) => string[]>;
