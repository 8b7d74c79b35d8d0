import { UnavailableError } from '../core/errors.ts';
import type { Msg } from '../i18n/index.ts';

/**
 * A command on a target that passed its time limit (and was stopped). Its own class, carrying the
 * limit, so that callers tell "the session timed out" from "the thing checked failed" without
 * reading the message, which is in whichever language the reader has.
 */
export class TimedOutError extends UnavailableError {
  constructor(text: Msg, readonly ms: number) {
    // Named as its parent: to whoever reads a log, it is the target being unavailable.
    super(text);
  }
}

/**
 * A time limit as catalog messages show it, the number formatted for the reader: "5 s", "1.5 s",
 * and below a second "700 ms" (the message's `_ms` form, chosen by i18next's context).
 */
export const limit = (ms: number) => (ms < 1000 ? { limit: ms, context: 'ms' } : { limit: ms / 1000 });

/** A command stopped because its caller aborted it (Stop on a card, a lost lease); not a failure of the target. */
export class AbortedError extends Error {
  constructor() {
    // i18n-exempt: never shown; callers say why they stopped
    super('stopped by its caller');
    this.name = 'AbortedError';
  }
}
