import { z } from 'zod';
import { duration } from '../src/config/duration.ts';
import type { Config } from '../src/config/schema.ts';
import { defineCommand, type CommandContext } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import type { Report } from '../src/core/report.ts';
import { logStats } from '../src/diagnose/log-stats.ts';
import { findService } from '../src/diagnose/services.ts';
import type { UsageLine } from '../src/core/usage.ts';
import { msg, type T } from '../src/i18n/index.ts';
import rotation from './logs/rotation.ts';
import cleanup from './logs/cleanup.ts';

// What fits in one Slack message comfortably; more is uploaded as a file.
const INLINE_LINES = 40;
const INLINE_CHARS = 2800;
const EXCERPT_LINES = 15;
const ERRORS_WINDOW = 5000;

const hasLogs = (svc: Config['services'][string]) => !!((svc.host && (svc.logs.app || svc.logs.error)) || (svc.docker && svc.container));
const services = (config: Config) => Object.keys(config.services).filter((s) => hasLogs(config.services[s]));

const USAGE: UsageLine[] = [
  '/logs <service> [app|error] [--lines N] [--grep TEXT] [--since 15m]',
  { syntax: '/logs <service> errors', note: 'logs:usage.errors' },
  { syntax: '/logs rotation', note: 'logs:usage.rotation' },
  { syntax: '/logs cleanup [service] [--older-than 30d] [--dry-run]', note: 'logs:usage.cleanup' },
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
  /** Where the lines came from, in words for the reply. */
  source: string;
  /** How much was searched, for a pattern over a whole container log ("" otherwise). */
  searched: string;
  /** What was left out, in words for the reply ("" when nothing). */
  cut: string;
}

/** Lines from the service's log file on its host, or from its container when it has no file. */
async function fetchLines(ctx: CommandContext<Args>): Promise<Fetched> {
  const { t } = ctx;
  const { kind, grep, since } = ctx.args;
  const { name: service, svc } = findService(ctx.config, ctx.args.service, services(ctx.config), USAGE, 'logs:no_log_configured');
  const want = kind === 'errors' ? ERRORS_WINDOW : ctx.args.lines;
  const file = kind === 'app' ? svc.logs.app : (svc.logs.error ?? svc.logs.app);
  if (svc.host && file) {
    const host = ctx.targets.hosts.get(svc.host);
    if (!host) throw new UserError(msg(svc.host === 'local' ? 'logs:local_off' : 'logs:host_not_configured', { host: svc.host, service }));
    const res = since
      ? await host.run('linesSince', [file, Math.max(1, Math.ceil(since / 60_000)), want, grep ?? ''])
      : grep
        ? await host.run('grepLast', [grep, file, want])
        : await host.run('tail', [file, want]);
    // grep exits 1 when nothing matched; anything else non-zero is a real failure (missing file…).
    if (res.code !== 0 && !(res.code === 1 && !res.stderr.trim())) {
      const reason = res.stderr.trim();
      throw new UserError(reason ? msg('logs:cannot_read', { file, host: svc.host, reason }) : msg('logs:cannot_read_exit', { file, host: svc.host, code: res.code }));
    }
    const source = t('logs:source.file', { file, host: svc.host });
    return { service, lines: splitLines(res.stdout), source, searched: '', cut: res.truncated ? t('logs:cut.size') : '' };
  }
  if (svc.docker && svc.container) {
    // A container has one stream; say so rather than pretend it is an error log.
    if (kind === 'error') throw new UserError(msg('logs:no_error_file', { service }));
    const docker = ctx.targets.docker.get(svc.docker);
    if (!docker) throw new UserError(msg('logs:docker_not_configured', { docker: svc.docker }));
    // Without a pattern the engine's own tail is enough. With one, the whole window (--since, or
    // the whole log) is searched as a stream, and only the newest matches are kept.
    const scan = await docker.scanLogs(svc.container, {
      tail: grep ? undefined : want,
      sinceSec: since ? Math.ceil(since / 1000) : undefined,
      grep,
      keep: want,
    });
    const cut = [
      scan.dropped ? t(grep ? 'logs:cut.dropped_matched' : 'logs:cut.dropped', { count: scan.dropped }) : '',
      scan.longLines ? t('logs:cut.long_lines', { count: scan.longLines }) : '',
      scan.stoppedEarly ? t('logs:cut.stopped', { count: scan.scannedLines }) : '',
    ].filter(Boolean).join(t('logs:separator'));
    const searched = grep ? t('logs:searched', { count: scan.scannedLines }) : '';
    return { service, lines: scan.lines, source: t('logs:source.container', { container: svc.container }), searched, cut };
  }
  throw new UserError(msg('logs:no_kind_log', { service, kind }));
}

const splitLines = (text: string) => text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);

/** What the lines were chosen by (pattern, time window), or "" for a plain tail. */
function describe(a: Args, t: T): string {
  const parts = [a.grep ? t('logs:describe.containing', { grep: a.grep }) : '', a.since ? t('logs:describe.since', { duration: t.duration(a.since) }) : ''].filter(Boolean);
  return parts.length ? t('logs:describe.wrap', { parts: parts.join(t('logs:describe.separator')) }) : '';
}

export default defineCommand({
  name: 'logs',
  summary: 'logs:summary',
  usage: USAGE,
  positionals: ['service', 'kind'],
  subcommands: { rotation, cleanup },
  args,
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const a = ctx.args;
    const { service, lines, source, searched, cut } = await fetchLines(ctx);
    const notes = `${searched}${cut ? t('logs:cut.wrap', { cut }) : ''}`;
    const chosen = describe(a, t);
    if (a.kind === 'errors') {
      const stats = logStats(lines);
      const errors = stats.levels.filter(([l]) => l === 'ERROR' || l === 'CRITICAL').reduce((n, [, c]) => n + c, 0);
      return {
        title: t('logs:errors.title', { service }),
        status: errors > 0 ? 'warn' : 'ok',
        summary: t('logs:errors.summary', { count: errors, total: stats.total, source, describe: chosen, notes }),
        fields: stats.levels.map(([level, n]) => ({ label: level, value: t.number(n) })),
        sections: stats.topErrors.length
          ? [{ title: t('logs:errors.most_repeated'), code: true, lines: stats.topErrors.map((e) => `${String(e.count).padStart(5)}×  ${e.example}`) }]
          : undefined,
      };
    }
    const title = t('logs:title', { service, kind: a.kind });
    const head = t('logs:head', { count: lines.length, source, describe: chosen, notes });
    if (!lines.length) return { title, status: 'info', summary: t('logs:no_lines', { source, describe: chosen, notes }) };
    const text = lines.join('\n');
    if (lines.length <= INLINE_LINES && text.length <= INLINE_CHARS) {
      return { title, status: 'info', summary: head, sections: [{ title: t('logs:output'), code: true, lines }] };
    }
    return {
      title,
      status: 'info',
      summary: t('logs:attached', { head, count: EXCERPT_LINES }),
      sections: [{ title: t('logs:last_lines'), code: true, lines: lines.slice(-EXCERPT_LINES) }],
      attachment: { filename: `${service}-${a.kind}.log`, title: t('logs:attachment', { service, kind: a.kind }), content: text },
    };
  },
});
