import { UnavailableError } from '../core/errors.ts';
import type { Msg } from '../i18n/index.ts';

/**
 * A command on a target that passed its time limit (and was stopped). Its own class, carrying the
 * limit, so that callers tell "the session timed out" from "the thing checked failed" without
 * reading the message, which is in whichever language the reader has.
 */
export class TimedOutError extends UnavailableError {
  constructor(text: Msg, readonly ms: number) {
    super(text);
    this.name = 'TimedOutError';
  }
}

/** A time limit as catalog messages show it: `{{seconds, number}} s`, formatted for the reader. */
export const limit = (ms: number) => ({ seconds: ms / 1000 });
