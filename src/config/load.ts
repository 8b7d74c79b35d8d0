import { readFileSync, existsSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, crossReferenceIssues, type Config } from './schema.ts';
import { defaultConfigInput } from './defaults.ts';

export type Env = Record<string, string | undefined>;

/** Thrown when a config cannot be used; `problems` holds one "path: message" line per problem. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** Where it came from: a file path, or "built-in defaults". */
  source: string;
}

const pathText = (path: PropertyKey[]) => path.map(String).join('.') || '(root)';

const REFERENCE = /\$\{([^}]*)\}/g;

/**
 * Replaces ${NAME} with env values and ${file:path} with a file's contents (trailing newline
 * trimmed, path relative to the config file). Done on parsed string values, never on raw YAML,
 * so a secret cannot change the document's structure. `ancestors` catches a YAML alias that
 * contains itself (`a: &x [*x]`), which would otherwise recurse until the stack overflows.
 */
function interpolate(value: unknown, path: PropertyKey[], env: Env, baseDir: string, problems: string[], ancestors: object[] = []): unknown {
  if (typeof value === 'string') {
    // Only the written text is checked: a value that came from the environment may hold anything.
    if (value.replace(REFERENCE, '').includes('${')) {
      problems.push(`${pathText(path)}: unclosed \${ (write \${NAME}, \${NAME:-default} or \${file:path}; \${ cannot be escaped)`);
    }
    return value.replace(REFERENCE, (whole, ref: string) => {
      if (ref.includes('${')) {
        problems.push(`${pathText(path)}: nested reference ${whole} (a default cannot hold another reference)`);
        return whole;
      }
      if (ref.startsWith('file:')) {
        const file = resolve(baseDir, ref.slice(5).trim());
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (err) {
          problems.push(`${pathText(path)}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
          return whole;
        }
      }
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/.exec(ref);
      if (!m) {
        problems.push(`${pathText(path)}: malformed reference \${${ref}}`);
        return whole;
      }
      const got = env[m[1]];
      if (got !== undefined && got !== '') return got;
      if (m[2] !== undefined) return m[2];
      problems.push(`${pathText(path)}: environment variable ${m[1]} is not set`);
      return whole;
    });
  }
  if (value && typeof value === 'object') {
    if (ancestors.includes(value)) {
      problems.push(`${pathText(path)}: recursive YAML alias (this value contains itself)`);
      return null;
    }
    const inner = [...ancestors, value];
    if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, baseDir, problems, inner));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], env, baseDir, problems, inner)]));
  }
  return value;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * An SSH host's key file must be there when the bot starts, or every command on that host fails
 * later. Checked on the raw document so that it is reported together with the other problems.
 */
function keyFileIssues(doc: unknown, baseDir: string): string[] {
  const hosts = isObj(doc) && isObj(doc.targets) && isObj(doc.targets.hosts) ? doc.targets.hosts : {};
  const problems: string[] = [];
  for (const [name, host] of Object.entries(hosts)) {
    // privateKey wins when both are set, so the file is not read.
    if (!isObj(host) || typeof host.privateKeyFile !== 'string' || typeof host.privateKey === 'string') continue;
    const path = `targets.hosts.${name}.privateKeyFile`;
    const file = resolve(baseDir, host.privateKeyFile);
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      if (!fstatSync(fd).isFile()) {
        problems.push(`${path}: ${file} is not a file`);
        continue;
      }
      const head = Buffer.alloc(64);
      const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('latin1');
      if (/^(ssh-|ecdsa-|sk-)/.test(text)) problems.push(`${path}: ${file} is a public key; give the private key (without .pub)`);
    } catch (err) {
      problems.push(`${path}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return problems;
}

/**
 * Validates an already-parsed document; every problem is reported with its path. With `commands`,
 * permission and approval-rule keys must name real commands: a typo there would otherwise
 * silently leave a command with default policy.
 */
export function parseConfig(input: unknown, source: string, env: Env = {}, baseDir = process.cwd(), commands?: string[]): Config {
  const problems: string[] = [];
  const interpolated = interpolate(input ?? {}, [], env, baseDir, problems);
  const result = configSchema.safeParse(interpolated);
  const issues = [...(result.success ? [] : result.error.issues), ...crossReferenceIssues(interpolated, commands)];
  // A value that could not be interpolated is reported once, not again as the wrong type.
  const reported = new Set(problems.map((p) => p.slice(0, p.indexOf(': '))));
  for (const issue of issues) if (!reported.has(pathText(issue.path))) problems.push(`${pathText(issue.path)}: ${issue.message}`);
  problems.push(...keyFileIssues(interpolated, baseDir));
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  // Key files are named relative to the config file, like ${file:…}, not to wherever the bot started.
  for (const host of Object.values(result.data.targets.hosts)) {
    if (host.privateKeyFile) host.privateKeyFile = resolve(baseDir, host.privateKeyFile);
  }
  return result.data;
}

export function loadConfigFile(file: string, env: Env, commands?: string[]): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML ${e.linePos ? `line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0]}`));
  }
  // Most likely a mistake (a truncated copy, the wrong file): an empty file would silently mean
  // "no targets at all", since a file replaces the built-in defaults.
  const empty = new ConfigError(file, ['(root): the file is empty (write {} to use only the schema defaults)']);
  if (doc.contents === null) throw empty;
  let input: unknown;
  try {
    // maxAliasCount bounds "billion laughs" expansion; toJS throws past it.
    input = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, [`(root): YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (input === null || input === undefined) throw empty;
  return parseConfig(input, file, env, dirname(resolve(file)), commands);
}

/** OPSBOT_CONFIG, else config/opsbot.yaml if present, else the built-in defaults. */
export function loadConfig(env: Env, cwd = process.cwd(), commands?: string[]): LoadedConfig {
  const explicit = env.OPSBOT_CONFIG;
  if (explicit) return { config: loadConfigFile(resolve(cwd, explicit), env, commands), source: explicit };
  const local = resolve(cwd, 'config/opsbot.yaml');
  if (existsSync(local)) return { config: loadConfigFile(local, env, commands), source: 'config/opsbot.yaml' };
  return { config: parseConfig(defaultConfigInput, 'built-in defaults', env, cwd, commands), source: 'built-in defaults' };
}
