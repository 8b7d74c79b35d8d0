import type { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Targets } from '../targets/types.ts';
import type { Logger } from './log.ts';
import type { Report } from './report.ts';

export interface CommandContext<A> {
  args: A;
  user: string;
  channel: string;
  config: Config;
  /** Executors for the real system; commands never construct clients themselves. */
  targets: Targets;
  log: Logger;
  /** The commands this caller may run (for help texts). */
  allowedCommands(): Promise<AnyCommand[]>;
}

export interface CommandDef<S extends z.ZodObject> {
  /** Slash command name without the slash. */
  name: string;
  summary: string;
  /** Usage lines, shown on every argument error. */
  usage: string[];
  /** Names (keys of `args`) filled from bare words, in order; the rest are --flags. */
  positionals?: Array<keyof z.output<S> & string>;
  /** The argument schema; a function when valid values come from config (e.g. service names). */
  args: S | ((config: Config) => S);
  /** Destructive commands need a permission entry (or admin) and, later, approval. */
  destructive?: boolean;
  /** Key in config.permissions; defaults to the command name. */
  permission?: string;
  /** Replies visible to the whole channel (default) or only to the caller. */
  visibility?: 'channel' | 'ephemeral';
  run(ctx: CommandContext<z.output<S>>): Promise<Report>;
}

export type AnyCommand = CommandDef<z.ZodObject>;

/** Declares a command; policy (roles, channels, rate limit, audit, errors) lives in the dispatcher. */
export function defineCommand<S extends z.ZodObject>(def: CommandDef<S>): AnyCommand {
  return def as unknown as AnyCommand;
}
