import { randomBytes } from 'node:crypto';
import { logT, type Msg, type T } from '../i18n/index.ts';
import type { UsageLine } from './usage.ts';

/**
 * An error the user can act on: shown in the reader's language, with usage lines and a "did you
 * mean" when known. Everything else is an internal error and is shown only as a reference id.
 * A plain string is shown as it is: keep those for texts that are not ours (a server's message).
 */
export class UserError extends Error {
  readonly text: Msg | string;
  readonly usage?: readonly UsageLine[];
  readonly hint?: string;
  constructor(text: Msg | string, opts: { usage?: readonly UsageLine[]; hint?: string } = {}) {
    // `message` is the English text, for logs; readers see `localized(t)`.
    super(typeof text === 'string' ? text : logT()(text.key, text.params));
    this.name = 'UserError';
    this.text = text;
    this.usage = opts.usage;
    this.hint = opts.hint;
  }

  localized(t: T): string {
    return t.text(this.text);
  }
}

/**
 * A target that cannot be reached (socket missing, connection refused, no answer in time).
 * A UserError, so the user sees what is down and the bot carries on serving other commands.
 */
export class UnavailableError extends UserError {
  constructor(text: Msg | string) {
    super(text);
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

/** An error as a reader sees it: a UserError in their language, anything else as it came. */
export function readerMessage(t: T, err: unknown): string {
  return err instanceof UserError ? err.localized(t) : errorMessage(err);
}
