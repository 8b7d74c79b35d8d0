import { randomBytes } from 'node:crypto';

/**
 * An error the user can act on: shown verbatim, with usage lines and a "did you mean" when known.
 * Everything else is an internal error and is shown only as a reference id.
 */
export class UserError extends Error {
  readonly usage?: string[];
  readonly hint?: string;
  constructor(message: string, opts: { usage?: string[]; hint?: string } = {}) {
    super(message);
    this.name = 'UserError';
    this.usage = opts.usage;
    this.hint = opts.hint;
  }
}

/**
 * A target that cannot be reached (socket missing, connection refused, no answer in time).
 * A UserError, so the user sees what is down and the bot carries on serving other commands.
 */
export class UnavailableError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}

/** An internal failure with a stable code, so logs and alerts can group it. */
export class InternalError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/** Short reference id shown to users and logged beside the full error. */
export function newRef(): string {
  return randomBytes(4).toString('hex');
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorMessage(err.errors[0]);
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
