/** What PostgreSQL said, as something the user can act on. */
import { UnavailableError, UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

interface PgError {
  code?: string;
  message?: string;
  severity?: string;
}

const CONNECTION = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE']);

/** The server's SQLSTATE, when the error came from the server. */
export const sqlState = (err: unknown): string | undefined => {
  const e = err as PgError;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && e.severity ? e.code : undefined;
};

/**
 * A server error as a UserError: a statement stopped by its timeout or by Stop, a lock not
 * granted in time, a write refused by the read-only transaction, or the server's own message.
 * Anything else (a bug) is returned as it was, to be logged as an internal error.
 */
export function serverError(err: unknown, opts: { timeoutMs?: number; setting?: string; lockTimeoutMs?: number } = {}): unknown {
  if (err instanceof UserError) return err;
  const e = err as PgError & { code?: string };
  const state = sqlState(err);
  const message = e?.message ?? String(err);
  if (state === '57014') {
    if (/statement timeout/.test(message)) return new UserError(msg('db:errors.timeout', { ms: opts.timeoutMs ?? 0, setting: opts.setting ?? 'db.maintenance_timeout' }));
    return new UserError(msg('db:errors.cancelled'));
  }
  if (state === '55P03') return new UserError(msg('db:errors.lock_timeout', { ms: opts.lockTimeoutMs ?? 0 }));
  if (state === '25006') return new UserError(msg('db:errors.read_only', { message }));
  if (state) return new UserError(msg('db:errors.server', { message, code: state }));
  if (typeof e?.code === 'string' && CONNECTION.has(e.code)) return new UnavailableError(msg('db:errors.unreachable', { message }));
  if (/timeout expired|Connection terminated/i.test(message)) return new UnavailableError(msg('db:errors.unreachable', { message }));
  return err;
}
