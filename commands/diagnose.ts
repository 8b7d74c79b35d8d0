import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report, Section } from '../src/core/report.ts';
import type { UsageLine } from '../src/core/usage.ts';
import { gatherFacts } from '../src/diagnose/gather.ts';
import { findService } from '../src/diagnose/services.ts';
import { verdict, type DiagnoseFacts } from '../src/diagnose/verdict.ts';
import type { T } from '../src/i18n/index.ts';

const USAGE: UsageLine[] = ['/diagnose <service>'];

const TCP = { ok: 'diagnose:section.tcp_ok', failed: 'diagnose:section.tcp_failed', unchecked: 'diagnose:section.tcp_unchecked' } as const;

function sections(f: DiagnoseFacts, t: T): Section[] {
  const out: Section[] = [];
  const c = f.container;
  if (c) {
    const i = c.info;
    const since = !i ? ''
      : i.state === 'running' && i.startedAt ? t('diagnose:section.up', { restarts: t.number(i.restartCount), duration: t.duration(Date.now() - i.startedAt.getTime()) })
        : i.finishedAt ? t('diagnose:section.finished', { restarts: t.number(i.restartCount), at: t.time(i.finishedAt) })
          : t('diagnose:section.never_finished', { restarts: t.number(i.restartCount) });
    out.push({
      title: t('diagnose:section.container', { name: c.name }),
      lines: c.error ? [t('diagnose:section.cannot_inspect', { error: t.text(c.error) })] : !i ? [t('diagnose:section.missing')] : [
        t('diagnose:section.state', {
          state: i.state,
          code: i.exitCode !== null ? t('diagnose:section.exit_code', { code: i.exitCode }) : '',
          health: i.health ? t('diagnose:section.health', { health: i.health }) : '',
        }),
        since,
        t('diagnose:section.image', { image: i.image }),
        t('diagnose:section.command', { command: i.command.join(' ') }),
      ],
    });
    if (c.logTail.length) out.push({ title: t('diagnose:section.log_tail', { count: c.logTail.length }), code: true, lines: c.logTail });
  }
  if (f.port) {
    const p = f.port;
    const line = p.listening === null ? t('diagnose:section.not_checked', { error: t.text(p.error ?? '') })
      : p.listening ? t('diagnose:section.listening') : t('diagnose:section.not_listening');
    out.push({ title: t('diagnose:section.port', { port: p.port, host: p.host }), lines: [line] });
  }
  if (f.disk) {
    const d = f.disk;
    out.push({
      title: t('diagnose:section.disk', { host: d.host }),
      lines: d.error ? [t('diagnose:section.not_checked', { error: t.text(d.error) })]
        : d.disks.map((x) => t('diagnose:section.disk_line', { mount: x.mount, percent: t.number(x.usePercent / 100, { style: 'percent' }), avail: x.avail })),
    });
  }
  if (f.deps.length) {
    out.push({
      title: t('diagnose:section.deps'),
      lines: f.deps.map((d) => {
        const login = d.login.ok ? t('diagnose:section.login_ok') : t('diagnose:section.login_failed', { error: t.text(d.login.error ?? '') });
        const tcp = d.tcp ? t(TCP[d.tcp.status], { from: d.tcp.from, error: t.text(d.tcp.error ?? '') }) : '';
        return t('diagnose:section.dep', { kind: d.kind, name: d.name, where: d.where, login, tcp });
      }),
    });
  }
  return out;
}

export default defineCommand({
  name: 'diagnose',
  summary: 'diagnose:summary',
  usage: USAGE,
  positionals: ['service'],
  // Checked in run(), not by the schema, so that an unknown name gets the list and how to add one.
  args: z.object({ service: z.string().min(1).optional() }),
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const { name } = findService(ctx.config, ctx.args.service, Object.keys(ctx.config.services), USAGE);
    const facts = await gatherFacts(name, ctx.config, ctx.targets);
    const v = verdict(facts, t);
    return { title: t('diagnose:title', { service: name }), status: v.status, summary: v.text, sections: sections(facts, t) };
  },
});
