/**
 * After an upgrade or rollback was interrupted (the bot died mid-run): what each service's
 * container runs now, and which old or one-off containers were left, with the docker commands
 * that put the old one back. Read-only: it inspects, never repairs.
 */
import type { T } from '../i18n/index.ts';
import type { Config } from '../config/schema.ts';
import { errorMessage, readerMessage } from '../core/errors.ts';
import { engineFor, itemsOf } from './plan.ts';

export async function whereSwitchIs(ctx: { t: T; config: Config }, target: Record<string, unknown>): Promise<{ summary: string; lines: string[] }> {
  const { t } = ctx;
  const lines: string[] = [];
  for (const i of itemsOf(target)) {
    try {
      const engine = engineFor(ctx.config, i.docker);
      const live = await engine.container(i.container);
      lines.push(live
        ? t('upgrade:where.live', { service: i.service, container: i.container, image: live.Config.Image, state: live.State.Status, original: live.Id === i.containerId ? t('upgrade:where.original') : '' })
        : t('upgrade:where.missing', { service: i.service, container: i.container }));
      for (const left of await engine.named(`${i.container}-`)) {
        if (left.id === i.containerId && live?.Id !== i.containerId) {
          lines.push(t('upgrade:where.prev', { name: left.name, state: left.state }));
          // i18n-exempt: docker commands, the same in every language
          lines.push(`  docker rm -f ${i.container}; docker rename ${left.name} ${i.container}; docker start ${i.container}`);
        } else if (/-(migrate|prev)-/.test(left.name)) lines.push(t('upgrade:where.leftover', { name: left.name, state: left.state }));
      }
    } catch (err) {
      lines.push(t('upgrade:where.unknown', { service: i.service, detail: readerMessage(t, err) }));
    }
  }
  return { summary: t('upgrade:where.summary'), lines };
}
