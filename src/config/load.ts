import { readFileSync, existsSync } from 'node:fs';
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

/**
 * Replaces ${NAME} with env values and ${file:path} with a file's contents (trailing newline
 * trimmed, path relative to the config file). Done on parsed string values, never on raw YAML,
 * so a secret cannot change the document's structure.
 */
function interpolate(value: unknown, path: PropertyKey[], env: Env, baseDir: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([^}]*)\}/g, (whole, ref: string) => {
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
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, baseDir, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], env, baseDir, problems)]));
  }
  return value;
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
  for (const issue of issues) problems.push(`${pathText(issue.path)}: ${issue.message}`);
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
  return parseConfig(doc.toJS(), file, env, dirname(resolve(file)), commands);
}

/** OPSBOT_CONFIG, else config/opsbot.yaml if present, else the built-in defaults. */
export function loadConfig(env: Env, cwd = process.cwd(), commands?: string[]): LoadedConfig {
  const explicit = env.OPSBOT_CONFIG;
  if (explicit) return { config: loadConfigFile(resolve(cwd, explicit), env, commands), source: explicit };
  const local = resolve(cwd, 'config/opsbot.yaml');
  if (existsSync(local)) return { config: loadConfigFile(local, env, commands), source: 'config/opsbot.yaml' };
  return { config: parseConfig(defaultConfigInput, 'built-in defaults', env, cwd, commands), source: 'built-in defaults' };
}
