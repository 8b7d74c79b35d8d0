import { z } from 'zod';
import { defineCommand } from '../src/core/define-command.ts';
import { UserError, readerMessage } from '../src/core/errors.ts';
import { userMention } from '../src/core/mention.ts';
import type { Report } from '../src/core/report.ts';
import { didYouMean } from '../src/core/suggest.ts';
import { msg } from '../src/i18n/index.ts';
import { engineFor, imageShort, switchable, upgrades } from '../src/upgrade/plan.ts';

const USAGE = [{ syntax: '/versions [service]', note: 'upgrade:usage.versions' }];

export default defineCommand({
  name: 'versions',
  summary: 'upgrade:versions_summary',
  usage: USAGE,
  positionals: ['service'],
  args: z.object({ service: z.string().optional() }),

  async run(ctx): Promise<Report> {
    const { t, config } = ctx;
    const known = switchable(config);
    const given = ctx.args.service;
    if (given !== undefined && !known.includes(given)) {
      throw new UserError(msg('upgrade:errors.unknown_service', { service: given, known }), { hint: didYouMean(given, known), usage: USAGE });
    }
    const rows = await upgrades(config).versions.latest(given);
    const lines = await Promise.all((given ? [given] : known).map(async (name) => {
      const svc = config.services[name];
      const row = rows.find((r) => r.service === name);
      // What runs now, beside what was recorded: a container changed by hand shows as such.
      let running = '';
      let runningId: string | null = null;
      try {
        const raw = await engineFor(config, svc.docker!).container(svc.container!);
        running = raw ? raw.Config.Image : t('upgrade:versions.no_container', { container: svc.container });
        runningId = raw?.Image ?? null;
      } catch (err) {
        running = t('upgrade:versions.unreachable', { docker: svc.docker, detail: readerMessage(t, err) });
      }
      if (!row) return t('upgrade:versions.unrecorded', { service: name, image: running, id: imageShort(runningId) });
      const line = t('upgrade:versions.line', {
        service: name, image: row.image, tag: row.tag, id: imageShort(row.image_id), digest: row.digest ?? t('upgrade:versions.no_digest'),
        at: new Date(row.deployed_at), user: userMention(row.deployed_by), kind: t(`upgrade:versions.kind_${row.kind}`), request: row.request_id,
        replaced: row.replaced_image, replacedId: imageShort(row.replaced_image_id),
      });
      return runningId && runningId !== row.image_id ? `${line} ${t('upgrade:versions.drift', { image: running, id: imageShort(runningId) })}` : line;
    }));
    return {
      title: t('upgrade:versions.title'),
      status: 'info',
      summary: known.length ? t('upgrade:versions.summary', { count: rows.length, services: (given ? [given] : known).length, zone: t.timeZone }) : t('upgrade:versions.none'),
      sections: lines.length ? [{ title: t('upgrade:versions.heading'), lines }] : [],
    };
  },
});
