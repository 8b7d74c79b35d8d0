/**
 * The manual's error-log check (§1.1 "检查日志文件", §6.3 `grep -c "ERROR" logs/app.log`): how
 * many lines of a service's error log contain ERROR, over a bounded window so that old errors in
 * a long-lived file do not keep /health red forever.
 */
import type { Config } from '../config/schema.ts';
import { grade } from '../core/report.ts';
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

export function windowText(w: ErrorWindow): string {
  return 'lines' in w ? `the last ${w.lines} lines` : `the last ${w.minutes} min`;
}

/** Counted on the host, so only a number crosses the network, whatever the log's size. */
export async function countErrorLines(host: HostExecutor, file: string, window: ErrorWindow): Promise<number> {
  const r = 'lines' in window
    ? await host.run('countInLastLines', [ERROR_PATTERN, file, window.lines])
    : await host.run('countInLastMinutes', [ERROR_PATTERN, file, window.minutes]);
  const out = r.stdout.trim();
  // grep -c exits 1 when it counts 0; anything on stderr (tail, date, awk) means the count is not to be trusted.
  if ((r.code === 0 || r.code === 1) && /^\d+$/.test(out) && !r.stderr.trim()) return Number(out);
  throw new Error(`cannot count ${ERROR_PATTERN} lines in ${file} on ${host.name}: ${r.stderr.trim().slice(0, 300) || `exit ${r.code ?? 'killed'}`}`);
}

export const evaluateErrors: Evaluate<ErrorLogFacts> = (name, where, f, t) => {
  const text = `${f.count} ${ERROR_PATTERN} line${f.count === 1 ? '' : 's'} in ${windowText(f.window)} of ${f.file}`;
  return {
    lines: [{ name: `errors ${name}`, status: grade(f.count, t.error_log_lines), text }],
    detail: {
      title: `Error log ${name} (${where})`,
      lines: [
        text,
        'lines' in f.window
          ? `Same as: tail -n ${f.window.lines} ${f.file} | grep -c ${ERROR_PATTERN}`
          : `Lines stamped (YYYY-MM-DD HH:MM:SS) within ${f.window.minutes} min of the host's clock; unstamped lines count with the record above them.`,
      ],
    },
  };
};
