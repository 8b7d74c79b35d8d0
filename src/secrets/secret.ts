/**
 * Secrets (manual §5.2, 密钥管理): what /secrets rotate and /secrets list share. A secret is a
 * file on a host (config `secrets.<name>`); these helpers name it, find its host and say where
 * its copies go.
 */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg, type Msg } from '../i18n/index.ts';
import { commandLine } from '../targets/quote.ts';
import type { HostExecutor, Targets } from '../targets/types.ts';

export type SecretConfig = Config['secrets'][string];

/** The configured secret `given`, or a clear error listing the known ones (with "did you mean"). */
export function pickSecret(config: Config, given: string, usage: readonly UsageLine[], hint: (name: string) => string): SecretConfig {
  const known = Object.keys(config.secrets);
  if (!known.length) throw new UserError(msg('secrets:errors.none_configured'), { usage });
  const cfg = Object.hasOwn(config.secrets, given) ? config.secrets[given] : undefined;
  if (!cfg) {
    const guess = didYouMean(given, known);
    throw new UserError(msg('secrets:errors.unknown', { name: given, known }), { usage, hint: guess && hint(guess) });
  }
  return cfg;
}

export function secretHost(targets: Targets, cfg: SecretConfig): HostExecutor {
  const host = targets.hosts.get(cfg.host);
  if (!host) throw new UserError(msg('secrets:errors.no_host', { host: cfg.host }));
  return host;
}

const dirOf = (file: string) => file.slice(0, file.lastIndexOf('/')) || '/';
const baseOf = (file: string) => file.slice(file.lastIndexOf('/') + 1);

/** Where the encrypted old values go: keep_dir, else the file's own directory. */
export const keepDir = (cfg: SecretConfig) => cfg.keep_dir ?? dirOf(cfg.file);

/**
 * The hard link that holds the old file while a rotation runs: putting it back is one rename.
 * Beside the file (a hard link cannot cross file systems), hidden, removed when the rotation ends.
 */
export const rollbackLink = (cfg: SecretConfig) => `${dirOf(cfg.file)}/.${baseOf(cfg.file)}.opsbot-old`;

/**
 * The encrypted copy of the old value made by a rotation starting at `at`:
 * <keep_dir>/<file>.<yyyymmddThhmmssZ>.gpg (without `at`, that pattern, for the plan).
 */
export function keptCopy(cfg: SecretConfig, at?: Date): string {
  const stamp = at ? at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') : '<yyyymmddThhmmssZ>';
  return `${keepDir(cfg)}/${baseOf(cfg.file)}.${stamp}.gpg`;
}

/** How a new value is made, as a plan line. */
export function generateStep(cfg: SecretConfig): Msg {
  const g = cfg.generate;
  if ('random_bytes' in g) return msg('secrets:plan.generate_random', { bytes: g.random_bytes, encoding: g.encoding });
  return msg('secrets:plan.generate_command', { command: commandLine(g.command), host: cfg.host, ms: g.timeout });
}

/** The file's state as the check script prints it ("stat MODE UID GID MTIME SIZE"). */
export interface FileFacts {
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
}

/** What the host's check found: problems (by kind) and the file's facts when it exists. */
export function parseCheck(stdout: string): { problems: string[]; facts?: FileFacts } {
  const problems: string[] = [];
  let facts: FileFacts | undefined;
  for (const line of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^stat (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(line);
    if (m) facts = { mode: m[1].padStart(4, '0'), uid: Number(m[2]), gid: Number(m[3]), mtime: Number(m[4]), size: Number(m[5]) };
    else problems.push(line);
  }
  return { problems, facts };
}

/** One check problem as a message, with the paths it is about. */
export function problemMsg(kind: string, cfg: SecretConfig, where: string): Msg {
  const known = ['symlink', 'missing', 'unreadable', 'owner', 'dir', 'leftover', 'keep_dir', 'passphrase', 'no_gpg'];
  return msg(known.includes(kind) ? `secrets:check.${kind}` : 'secrets:check.other', {
    file: cfg.file, where, link: rollbackLink(cfg), dir: keepDir(cfg), passphrase: cfg.passphrase_file, what: kind,
  });
}
