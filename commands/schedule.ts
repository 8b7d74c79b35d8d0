import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { channelMention } from '../src/core/mention.ts';
import type { Report } from '../src/core/report.ts';
import { didYouMean } from '../src/core/suggest.ts';
import { hasKey, msg, type T } from '../src/i18n/index.ts';
import { schedulesFor, type ScheduleInfo } from '../src/schedule/index.ts';

const USAGE = [
  { syntax: '/schedule list', note: 'schedule:usage.list' },
  { syntax: '/schedule run <name>', note: 'schedule:usage.run' },
];

/** An outcome word in the reader's language; an in-code schedule's own word is shown as it is. */
function outcomeText(t: T, outcome: string | null): string {
  if (outcome === null) return t('schedule:outcome.running');
  return hasKey(`schedule:outcome.${outcome}`) ? t(`schedule:outcome.${outcome}`) : outcome;
}

function lines(t: T, s: ScheduleInfo): string[] {
  const out: string[] = [];
  if (s.label) out.push(s.channel ? t('schedule:list.runs_in', { command: s.label, channel: channelMention(s.channel) }) : t('schedule:list.runs', { command: s.label }));
  out.push(s.next ? t('schedule:list.next', { at: t.time(s.next) }) : t('schedule:list.no_next'));
  const last = s.last;
  if (!last) out.push(t('schedule:list.never'));
  else {
    const kind = last.kind === 'fire' ? '' : ` (${t(`schedule:kind.${last.kind}`)})`;
    out.push(t('schedule:list.last', { at: t.time(new Date(last.fire_at)), outcome: outcomeText(t, last.outcome) }) + kind);
  }
  return out;
}

export default defineCommand({
  name: 'schedule',
  summary: 'schedule:summary',
  usage: USAGE,
  positionals: ['action', 'name'],
  args: z.object({ action: z.enum(['list', 'run']).default('list'), name: z.string().optional() }),
  visibility: 'ephemeral',
  async run(ctx): Promise<Report> {
    const { t } = ctx;
    const schedules = schedulesFor(ctx.config);
    if (!schedules) throw new UserError(msg('schedule:unavailable'));
    const all = await schedules.scheduler.list();
    if (ctx.args.action === 'list') {
      return {
        title: t('schedule:list.title'),
        status: 'info',
        summary: all.length ? t('schedule:list.summary', { count: all.length, zone: t.timeZone }) : t('schedule:list.none'),
        sections: all.map((s) => ({ title: s.enabled ? s.name : `${s.name} · ${t('schedule:list.disabled')}`, lines: lines(t, s) })),
      };
    }
    const name = ctx.args.name;
    if (!name) throw new UserError(msg('schedule:run.which'), { usage: USAGE });
    const target = all.find((s) => s.name === name);
    if (!target) {
      const guess = didYouMean(name, all.map((s) => s.name));
      throw new UserError(msg('schedule:run.unknown', { name }), { hint: guess && `/schedule run ${guess}`, usage: USAGE });
    }
    // Running a schedule acts with the schedule's roles, so it needs a grant of its own.
    if (!(await schedules.mayRunByHand(ctx.user))) {
      const roles = ctx.config.permissions.schedule?.roles ?? [];
      throw new UserError(roles.length ? msg('schedule:run.denied_roles', { roles, count: roles.length }) : msg('schedule:run.denied_admin'));
    }
    await schedules.scheduler.runNow(name, ctx.user);
    return {
      title: t('schedule:run.title', { name }),
      status: 'info',
      summary: target.channel ? t('schedule:run.started_in', { name, channel: channelMention(target.channel) }) : t('schedule:run.started', { name }),
    };
  },
});
