import { z } from 'zod';
import { duration, formatDuration } from '../src/config/duration.ts';
import type { Config } from '../src/config/schema.ts';
import { defineCommand, type CommandContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { logStats } from '../src/diagnose/log-stats.ts';
import { findService } from '../src/diagnose/services.ts';

// What fits in one Slack message comfortably; more is uploaded as a file.
const INLINE_LINES = 40;
const INLINE_CHARS = 2800;
const EXCERPT_LINES = 15;
const ERRORS_WINDOW = 5000;

const hasLogs = (svc: Config['services'][string]) => !!((svc.host && (svc.logs.app || svc.logs.error)) || (svc.docker && svc.container));
const services = (config: Config) => Object.keys(config.services).filter((s) => hasLogs(config.services[s]));

const USAGE = [
  '/logs <service> [app|error] [--lines N] [--grep TEXT] [--since 15m]',
  '/logs <service> errors   (lines per level and the most repeated errors)',
];

// Checked in run(), not by the schema, so that an unknown name gets the list and how to add one.
const args = z.object({
  service: z.string().min(1).optional(),
  kind: z.enum(['app', 'error', 'errors']).default('app'),
  lines: z.coerce.number().int().min(1).max(5000).default(50),
  grep: z.string().min(1).max(200).optional(),
  since: duration.optional(),
});
type Args = z.output<typeof args>;

interface Fetched {
  service: string;
  lines: string[];
  source: string;
  /** How much was searched, for a pattern over a whole container log ("" otherwise). */
  searched: string;
  /** What was left out, in words for the reply ("" when nothing). */
  cut: string;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** Lines from the service's log file on its host, or from its container when it has no file. */
async function fetchLines(ctx: CommandContext<Args>): Promise<Fetched> {
  const { kind, grep, since } = ctx.args;
  const { name: service, svc } = findService(ctx.config, ctx.args.service, services(ctx.config), USAGE,
    'has no log configured: give it `host` and `logs.app` / `logs.error`, or `docker` and `container` (docs/config.md).');
  const want = kind === 'errors' ? ERRORS_WINDOW : ctx.args.lines;
  const file = kind === 'app' ? svc.logs.app : (svc.logs.error ?? svc.logs.app);
  if (svc.host && file) {
    const host = ctx.targets.hosts.get(svc.host);
    if (!host) throw new UserError(`Host "${svc.host}" of ${service} is not configured${svc.host === 'local' ? ' (targets.local is false)' : ''}.`);
    const res = since
      ? await host.run('linesSince', [file, Math.max(1, Math.ceil(since / 60_000)), want, grep ?? ''])
      : grep
        ? await host.run('grepLast', [grep, file, want])
        : await host.run('tail', [file, want]);
    // grep exits 1 when nothing matched; anything else non-zero is a real failure (missing file…).
    if (res.code !== 0 && !(res.code === 1 && !res.stderr.trim())) {
      throw new UserError(`Cannot read ${file} on ${svc.host}: ${res.stderr.trim() || `exit code ${res.code}`}`);
    }
    return { service, lines: splitLines(res.stdout), source: `${file} on ${svc.host}`, searched: '', cut: res.truncated ? 'cut at the size limit' : '' };
  }
  if (svc.docker && svc.container) {
    // A container has one stream; say so rather than pretend it is an error log.
    if (kind === 'error') throw new UserError(`${service} has no error log file; its container logs are one stream: /logs ${service}`);
    const docker = ctx.targets.docker.get(svc.docker);
    if (!docker) throw new UserError(`Docker target "${svc.docker}" is not configured.`);
    // Without a pattern the engine's own tail is enough. With one, the whole window (--since, or
    // the whole log) is searched as a stream, and only the newest matches are kept.
    const scan = await docker.scanLogs(svc.container, {
      tail: grep ? undefined : want,
      sinceSec: since ? Math.ceil(since / 1000) : undefined,
      grep,
      keep: want,
    });
    const cut = [
      scan.dropped ? `${plural(scan.dropped, 'older line')}${grep ? ' that matched' : ''} left out (size limit)` : '',
      scan.longLines ? `${plural(scan.longLines, 'long line')} cut` : '',
      scan.stoppedEarly ? `stopped reading after ${plural(scan.scannedLines, 'line')}: the newest part of the log was not searched, narrow it with --since` : '',
    ].filter(Boolean).join('; ');
    const searched = grep ? `; ${plural(scan.scannedLines, 'line')} searched` : '';
    return { service, lines: scan.lines, source: `container ${svc.container}`, searched, cut };
  }
  throw new UserError(`${service} has no ${kind} log configured (services.${service}.logs or a container).`);
}

const splitLines = (text: string) => text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

function describe(a: Args): string {
  const parts = [a.grep ? `containing "${a.grep}"` : '', a.since ? `from the last ${formatDuration(a.since)}` : ''].filter(Boolean);
  return parts.length ? ` ${parts.join(', ')}` : '';
}

export default defineCommand({
  name: 'logs',
  summary: "Tail a service's log (manual §1.2), or count its errors",
  usage: USAGE,
  positionals: ['service', 'kind'],
  args,
  async run(ctx): Promise<Report> {
    const a = ctx.args;
    const { service, lines, source, searched, cut } = await fetchLines(ctx);
    const notes = `${searched}${cut ? ` (${cut})` : ''}`;
    if (a.kind === 'errors') {
      const stats = logStats(lines);
      const errors = stats.levels.filter(([l]) => l === 'ERROR' || l === 'CRITICAL').reduce((n, [, c]) => n + c, 0);
      return {
        title: `Errors: ${service}`,
        status: errors > 0 ? 'warn' : 'ok',
        summary: `${errors} ERROR or CRITICAL lines in the last ${stats.total} lines of ${source}${describe(a)}${notes}`,
        fields: stats.levels.map(([level, n]) => ({ label: level, value: String(n) })),
        sections: stats.topErrors.length
          ? [{ title: 'Most repeated errors', code: true, lines: stats.topErrors.map((e) => `${String(e.count).padStart(5)}×  ${e.example}`) }]
          : undefined,
      };
    }
    const title = `Logs: ${service} ${a.kind}`;
    const head = `${lines.length} line${lines.length === 1 ? '' : 's'} of ${source}${describe(a)}${notes}`;
    if (!lines.length) return { title, status: 'info', summary: `No lines${describe(a)} in ${source}${notes}.` };
    const text = lines.join('\n');
    if (lines.length <= INLINE_LINES && text.length <= INLINE_CHARS) {
      return { title, status: 'info', summary: head, sections: [{ title: 'Output', code: true, lines }] };
    }
    return {
      title,
      status: 'info',
      summary: `${head}; the full output is attached, the last ${EXCERPT_LINES} lines are below.`,
      sections: [{ title: 'Last lines', code: true, lines: lines.slice(-EXCERPT_LINES) }],
      attachment: { filename: `${service}-${a.kind}.log`, title: `${service} ${a.kind} log`, content: text },
    };
  },
});
