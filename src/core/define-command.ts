import type { z } from 'zod';
import type { Config } from '../config/schema.ts';
import type { Targets } from '../targets/types.ts';
import type { Logger } from './log.ts';
import type { ApprovalRequest } from '../approvals/store.ts';
import type { AuditRow, AuditWindow } from './audit.ts';
import type { Plan } from '../approvals/plan.ts';
import type { Report } from './report.ts';
import type { Msg, T } from '../i18n/index.ts';
import type { UsageLine } from './usage.ts';

export interface CommandContext<A> {
  args: A;
  /** The reader's language: the caller's for ephemeral replies, the channel's for channel posts. */
  t: T;
  user: string;
  channel: string;
  /** Set when a person typed it just now (Slack's trigger_id): the command may answer with a form. */
  interactive: boolean;
  config: Config;
  /** Executors for the real system; commands never construct clients themselves. */
  targets: Targets;
  log: Logger;
  /** The commands this caller may run (for help texts). */
  allowedCommands(): Promise<AnyCommand[]>;
  /** Whether this caller may run `cmd` here (a subcommand, for a parent's list of them). */
  mayRun(cmd: AnyCommand): Promise<boolean>;
  /** The caller's roles, for a decision that depends on the arguments (`/db explain --analyze`). */
  roles(): Promise<Set<string>>;
  /** Pending approval requests this caller may approve, deny or cancel. */
  actionableApprovals(): Promise<ApprovalRequest[]>;
  /** Recent audit events, newest first. */
  recentAudit(opts: { limit?: number; actor?: string }): Promise<AuditRow[]>;
  /** Break-glass uses, refusals and destructive actions since `since` (/security check). */
  auditWindow(since: Date): Promise<AuditWindow>;
}

/** What an approved plan runs with: the same executors, plus a way to report progress on the card. */
export interface ExecContext {
  requestId: string;
  requester: string;
  /** The language of the channel the approval card is in (its progress and result are posted there). */
  t: T;
  config: Config;
  targets: Targets;
  log: Logger;
  /**
   * Marks the start of a step, shown on the approval card ("restarting…"). The card update is
   * best effort and never waited for. Rejects with LeaseLostError when this runner no longer
   * holds the request's lease: the step must then not start.
   */
  progress(text: string): Promise<void>;
  /** Shows how a long step is going ("412 MB, 3/5 tables") on the card, without starting a new step. Best effort. */
  status(text: string): void;
  /** Aborted when the runner loses its lease or someone presses Stop, for long steps that can stop midway. */
  signal: AbortSignal;
  /** Who pressed Stop on the card, once someone has. */
  stopped(): string | undefined;
}

/** A command's name as config keys write it: "restore", "backup.prune", "db.index.create". */
const dotted = (cmd: AnyCommand) => cmd.name.replaceAll(' ', '.');

/** The approval rule key of a command: "restore", or "backup.prune" for a subcommand. */
export const ruleKey = (cmd: AnyCommand) => cmd.rule ?? dotted(cmd);

/** The config.permissions key of a command: its own `permission`, else its dotted name ("db.vacuum"). */
export const permissionKey = (cmd: AnyCommand) => cmd.permission ?? dotted(cmd);

/** Whether a command changes the system at once or on approval, and so needs a grant rather than being open by default. */
export const needsGrant = (cmd: AnyCommand) => !!cmd.destructive || !!cmd.restricted;

/** Whether these (parsed) arguments make a run need votes: `/db vacuum --full` does, `/db vacuum` does not. */
export function needsVotes(cmd: AnyCommand, args: unknown): boolean {
  return typeof cmd.destructive === 'function' ? cmd.destructive(args as never) : !!cmd.destructive;
}

/** Every command and subcommand, flattened: the engine runs them by name. */
export function allCommands(commands: AnyCommand[]): AnyCommand[] {
  return commands.flatMap((c) => [c, ...allCommands(Object.values(c.subcommands ?? {}))]);
}

export interface CommandDef<S extends z.ZodObject> {
  /** Slash command name without the slash. */
  name: string;
  /** Catalog key of the one-line summary (help), e.g. "health:summary". */
  summary: string;
  /** Usage lines, shown on every argument error: syntax stays English, notes are catalog keys. */
  usage: UsageLine[];
  /** Names (keys of `args`) filled from bare words, in order; the rest are --flags. */
  positionals?: Array<keyof z.output<S> & string>;
  /**
   * The last positional takes every remaining bare word, as an array of strings
   * (`/db index create orders tenant_id created_at`).
   */
  variadic?: boolean;
  /** The last positional takes all remaining words, joined by spaces (free text such as a title). */
  rest?: boolean;
  /**
   * The named argument takes the text as typed, quotes and all, once the known --flags at its start
   * and end are taken off: for text in another language (SQL) that word splitting would spoil.
   */
  raw?: keyof z.output<S> & string;
  /** The argument schema; a function when valid values come from config (e.g. service names). */
  args: S | ((config: Config) => S);
  /**
   * Destructive commands need a permission entry (or admin) and go plan → approval → execute;
   * they also take --dry-run and --break-glass "reason", added by the dispatcher. A function
   * decides per run from the parsed arguments: when it returns false the plan runs at once as a
   * job (`/db vacuum` is a job, `/db vacuum --full` waits for approval); the grant is needed either way.
   */
  destructive?: boolean | ((args: z.output<S>) => boolean);
  /**
   * Not destructive, but acting on the system (a job or a run that changes something, e.g.
   * `/db cancel`): like a destructive command it needs a permission entry with roles, or admin.
   */
  restricted?: boolean;
  /**
   * Key in config.permissions; defaults to the dotted name ("restart", "db.vacuum"). A read-only
   * subcommand without an entry of its own uses its parent's ("db"); one that needs a grant does not.
   */
  permission?: string;
  /** Replies visible to the whole channel (default) or only to the caller. */
  visibility?: 'channel' | 'ephemeral';
  /**
   * Subcommands, chosen by the first word (`/backup list` → subcommands.list). Each is a whole
   * command of its own kind (read-only, job or destructive); its name is "parent sub".
   */
  subcommands?: Record<string, AnyCommand>;
  /**
   * A job changes nothing that needs a vote but takes long: it plans, then runs at once on the
   * approval engine's rails (one card with progress, a lease, interruption handling), e.g. /backup.
   */
  job?: boolean;
  /** A running job or action shows a Stop button; execute() must then honour ctx.signal. */
  cancellable?: boolean;
  /** The approval rule's key; default: the command's name with "." for the space ("backup.prune"). */
  rule?: string;
  /**
   * Rules used when config sets none, by rule key: a stricter default for the command's own key
   * (two approvers for /cache flush), and one for every other key its plans may name (plan.rule).
   * Config may set each of these keys.
   */
  defaultRules?: Record<string, { approvers: string[]; count: number }>;
  /**
   * After a run was interrupted (its process died or shut down), what the card should say about
   * where things stand and what to run next. Read-only: it inspects, never repairs.
   */
  whereNow?(ctx: Omit<ExecContext, 'progress' | 'signal' | 'stopped' | 'status'>, plan: Plan): Promise<{ summary: string; lines: string[] }>;
  /** Read-only commands: do the work and report. */
  run?(ctx: CommandContext<z.output<S>>): Promise<Report>;
  /** Destructive commands: compute the exact plan against the live system, changing nothing. */
  plan?(ctx: CommandContext<z.output<S>>): Promise<Plan>;
  /** Re-checked right before execution; a returned reason stops the plan from running. */
  precheck?(ctx: ExecContext, plan: Plan): Promise<string | Msg | undefined>;
  /** Runs the approved plan, exactly as approved. */
  execute?(ctx: ExecContext, plan: Plan): Promise<Report>;
}

export type AnyCommand = CommandDef<z.ZodObject>;

/** Declares a command; policy (roles, channels, rate limit, audit, errors) lives in the dispatcher. */
export function defineCommand<S extends z.ZodObject>(def: CommandDef<S>): AnyCommand {
  return def as unknown as AnyCommand;
}
