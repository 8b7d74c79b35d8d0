/** Which PostgreSQL target a /db command works on, and the server facts several commands need. */
import { z } from 'zod';
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg } from '../i18n/index.ts';
import type { PostgresExecutor, Targets } from '../targets/types.ts';
import { serverError } from './errors.ts';

/** Every /db command takes `--target NAME`: a targets.postgres entry. */
export const targetArg = { target: z.string().optional() };

/** The target's name: --target, else db.target, else the only one configured. */
export function targetName(config: Config, given: string | undefined, usage: readonly UsageLine[]): string {
  const known = Object.keys(config.targets.postgres);
  if (!known.length) throw new UserError(msg('db:errors.no_targets'));
  const name = given ?? config.db.target ?? (known.length === 1 ? known[0] : undefined);
  if (name === undefined) throw new UserError(msg('db:errors.which_target', { known }), { usage });
  if (!known.includes(name)) {
    const guess = didYouMean(name, known);
    throw new UserError(msg('db:errors.unknown_target', { target: name, known }), { usage, hint: guess && `--target ${guess}` });
  }
  return name;
}

export function executor(targets: Targets, name: string): PostgresExecutor {
  const pg = targets.postgres.get(name);
  if (!pg) throw new UserError(msg('db:errors.unknown_target', { target: name, known: [...targets.postgres.keys()] }));
  return pg;
}

/** The executor a command's arguments point at, with its name. */
export function pickTarget(ctx: { config: Config; targets: Targets; args: { target?: string } }, usage: readonly UsageLine[]): { name: string; pg: PostgresExecutor } {
  const name = targetName(ctx.config, ctx.args.target, usage);
  return { name, pg: executor(ctx.targets, name) };
}

/**
 * A report's or a plan's reads, with what the server says turned into words for the user (an
 * unreachable server, a statement past the target's timeout, a missing privilege).
 */
export async function guarded<R>(config: Config, target: string, work: Promise<R>): Promise<R> {
  try {
    return await work;
  } catch (err) {
    const timeoutMs = config.targets.postgres[target]?.timeout ?? config.health.timeout;
    throw serverError(err, { timeoutMs, setting: config.targets.postgres[target]?.timeout ? `targets.postgres.${target}.timeout` : 'health.timeout' });
  }
}

export interface Server {
  /** server_version_num: 150004 for 15.4. */
  num: number;
  version: string;
  database: string;
}

export async function server(pg: PostgresExecutor): Promise<Server> {
  const [r] = await pg.query<{ num: string; version: string; database: string }>(
    `select current_setting('server_version_num') as num, current_setting('server_version') as version, current_database() as database`,
  );
  return { num: Number(r.num), version: r.version, database: r.database };
}

/** Collapses a query's whitespace and cuts it, for one line of a report. */
export function oneLine(sql: string | null | undefined, max = 160): string {
  const text = (sql ?? '').replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
