import { errorMessage } from '../core/errors.ts';

/** Slack's default Web API base, as WebClient uses it when SLACK_API_URL is unset. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** The innermost useful reason: fetch's "fetch failed" hides the socket error in `cause`. */
function rootCause(err: unknown): string {
  let e: unknown = (err as { original?: unknown })?.original ?? err;
  let text = errorMessage(e);
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) {
    e = e.cause;
    text = errorMessage(e);
  }
  return text;
}

/**
 * One line that says which Web API call failed, against which URL, why, and what to check:
 * `auth.test at http://127.0.0.1:1/api/ failed: connect ECONNREFUSED 127.0.0.1:1 (check SLACK_API_URL / network)`.
 */
export function describeSlackCallError(method: string, url: string, err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  let reason: string;
  let hint: string;
  if (e?.code === 'slack_webapi_platform_error') {
    reason = e.data?.error ?? errorMessage(err);
    // i18n-exempt: a start-up diagnostic on the operator's terminal (thrown before any reader exists), like src/config's
    hint = /auth|token|account_inactive|not_allowed/.test(reason) ? 'check SLACK_BOT_TOKEN' : 'see Slack\'s documentation of this error';
  } else if (e?.code === 'slack_webapi_http_error') {
    reason = `HTTP ${e.statusCode}`;
    hint = 'check SLACK_API_URL';
  } else {
    reason = rootCause(err);
    hint = 'check SLACK_API_URL / network';
  }
  return `${method} at ${url} failed: ${reason} (${hint})`;
}
