/**
 * The manual's error-log check (§1.1 "检查日志文件", §6.3 `grep -c "ERROR" logs/app.log`): how
 * many lines of a service's error log contain ERROR, over a bounded window so that old errors in
 * a long-lived file do not keep /health red forever.
 */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { grade } from '../core/report.ts';
import { msg, type T } from '../i18n/index.ts';
import type { HostExecutor } from '../targets/types.ts';
import type { Evaluate } from './types.ts';

export type ErrorWindow = Config['health']['error_log'];

/** Case-sensitive and literal, as in the manual's grep -c "ERROR". */
export const ERROR_PATTERN = 'ERROR';

export interface ErrorLogFacts {
  host: string;
  file: string;
  window: ErrorWindow;
  count: number;
}

// The window's figures are shown as configured (the lines are what `tail -n` is given).
export function windowText(w: ErrorWindow, t: T): string {
  return 'lines' in w ? t('checks:error_log.window_lines', { lines: w.lines }) : t('checks:error_log.window_minutes', { minutes: w.minutes });
}

/** Counted on the host, so only a number crosses the network, whatever the log's size. */
export async function countErrorLines(host: HostExecutor, file: string, window: ErrorWindow): Promise<number> {
  const r = 'lines' in window
    ? await host.run('countInLastLines', [ERROR_PATTERN, file, window.lines])
    : await host.run('countInLastMinutes', [ERROR_PATTERN, file, window.minutes]);
  const out = r.stdout.trim();
  // grep -c exits 1 when it counts 0; anything on stderr (tail, date, awk) means the count is not to be trusted.
  if ((r.code === 0 || r.code === 1) && /^\d+$/.test(out) && !r.stderr.trim()) return Number(out);
  const reason = r.stderr.trim().slice(0, 300) || `exit ${r.code ?? 'killed'}`;
  throw new UserError(msg('checks:error_log.cannot_count', { pattern: ERROR_PATTERN, file, host: host.name, reason }));
}

export const evaluateErrors: Evaluate<ErrorLogFacts> = (name, where, f, { thresholds, t }) => {
  const text = t('checks:error_log.count', { count: f.count, pattern: ERROR_PATTERN, window: windowText(f.window, t), file: f.file });
  return {
    lines: [{ name: t('checks:label.errors', { name }), status: grade(f.count, thresholds.error_log_lines), text }],
    detail: {
      title: t('checks:error_log.title', { name, where }),
      lines: [
        text,
        'lines' in f.window
          ? t('checks:error_log.same_as', { command: `tail -n ${f.window.lines} ${f.file} | grep -c ${ERROR_PATTERN}` })
          : t('checks:error_log.stamped', { minutes: f.window.minutes }),
      ],
    },
  };
};
