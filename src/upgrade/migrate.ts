/**
 * §7.1 step 5 (数据库迁移, `flask db upgrade`): the migration command from config, run once in a
 * one-off container of the new image that has the service container's env, mounts and network,
 * while the old version still serves. Its exit code and the tail of its output go on the card;
 * the container is removed afterwards whatever happened.
 */
import type { ExecContext } from '../core/define-command.ts';
import { errorMessage, readerMessage } from '../core/errors.ts';
import { oneOffSpec } from '../targets/docker-recreate.ts';
import { engineFor, type SwitchItem } from './plan.ts';

export interface Migration {
  /** Whether the command was started: from then on the database may have changed. */
  started: boolean;
  /** Its exit code; null when it passed the timeout (it was killed) or never started. */
  code: number | null;
  tail: string[];
  error?: string;
}

const TAIL = 10;

export async function runMigration(ctx: ExecContext, item: SwitchItem, image: string, cmd: string[], stamp: string): Promise<Migration> {
  const engine = engineFor(ctx.config, item.docker);
  const raw = await engine.container(item.containerId);
  const out: Migration = { started: false, code: null, tail: [] };
  if (!raw) return { ...out, error: ctx.t('restart:precheck.gone', { name: item.container }) };
  const old = await engine.image(raw.Image);
  const name = `${item.container}-migrate-${stamp}`;
  let id: string | undefined;
  try {
    id = await engine.createLike(raw, oneOffSpec(raw, old?.raw ?? null, image, name, cmd), { aliases: false });
    await engine.start(id);
    out.started = true;
    out.code = await engine.wait(id, ctx.config.upgrade.migrate!.timeout);
    const logs = await ctx.targets.docker.get(item.docker)!.logs(id, { tail: TAIL, maxBytes: 8192 }).catch(() => '');
    out.tail = logs.split('\n').filter((l) => l.trim() !== '').slice(-TAIL);
  } catch (err) {
    out.error = readerMessage(ctx.t, err);
  } finally {
    if (id) await engine.remove(id).catch(() => undefined);
  }
  return out;
}
