import { z } from 'zod';
import { capacityFor, soon } from '../src/capacity/index.ts';
import { forecastLine } from '../src/capacity/render.ts';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError } from '../src/core/errors.ts';
import { worst, type Report } from '../src/core/report.ts';
import { msg } from '../src/i18n/index.ts';

export default defineCommand({
  name: 'capacity',
  summary: 'capacity:summary',
  usage: [{ syntax: '/capacity', note: 'capacity:usage.capacity' }],
  args: z.object({}),
  async run(ctx): Promise<Report> {
    const { t, config } = ctx;
    const capacity = capacityFor(config);
    if (!capacity) throw new UserError(msg('capacity:unavailable'));
    const c = config.capacity;
    const list = await capacity.forecasts();
    if (!list.length) return { title: t('capacity:title'), status: 'info', summary: t('capacity:none') };
    const lines = list.map((f) => forecastLine(t, f, c.warn_within));
    const count = soon(list, c.warn_within).length;
    const window = t.duration(c.window);
    return {
      title: t('capacity:title'),
      status: worst(lines.map((l) => l.status)),
      summary: count ? `${t('capacity:summary_line', { window })} ${t('capacity:summary_soon', { count, within: t.duration(c.warn_within) })}` : t('capacity:summary_line', { window }),
      checks: lines,
      footer: t('capacity:footer', { min: c.min_samples, span: t.duration(c.min_span) }),
    };
  },
});
