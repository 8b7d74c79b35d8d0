/**
 * Switching a service's container to another image, and back. The old container is stopped and
 * renamed aside, not removed, so that going back is a rename and a start; it is removed only once
 * the new version has been verified. Downtime is counted from the old container's stop to a
 * container of the service being ready again.
 */
import type { ExecContext } from '../core/define-command.ts';
import { UserError, errorMessage, readerMessage } from '../core/errors.ts';
import { msg, type Msg } from '../i18n/index.ts';
import { recreateSpec } from '../targets/docker-recreate.ts';
import type { ContainerInfo } from '../targets/types.ts';
import { engineFor, type SwitchItem } from './plan.ts';

export interface Switched {
  item: SwitchItem;
  /** Where the old container was put aside. */
  prevName: string;
  stopped: boolean;
  renamed: boolean;
  newId?: string;
  /** Set while no container of the service is ready. */
  downSince?: number;
  downMs: number;
  /** The new container became ready. */
  ready: boolean;
}

export class SwitchFailed extends Error {
  constructor(readonly why: Msg | string, readonly state: Switched) {
    super(typeof why === 'string' ? why : why.key);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "running, unhealthy": what the engine last said, for the card. */
export const stateText = (i: ContainerInfo | null) => (i ? [i.state, i.health].filter(Boolean).join(', ') : '-');

function docker(ctx: ExecContext, name: string) {
  const d = ctx.targets.docker.get(name);
  if (!d) throw new UserError(msg('restart:errors.docker_unconfigured', { name }));
  return d;
}

/**
 * Stops the old container, renames it to `<name>-prev-<stamp>`, creates the new one from `image`
 * with the old one's configuration under the old name, starts it and waits until it is ready.
 * Throws SwitchFailed with what was done, for switchBack to undo.
 */
export async function switchTo(ctx: ExecContext, item: SwitchItem, imageId: string, stamp: string): Promise<Switched> {
  // Created by its reference, as compose would (the container shows repository:tag), and checked to be the image preflight found.
  const image = item.toImage;
  const engine = engineFor(ctx.config, item.docker);
  const s: Switched = { item, prevName: `${item.container}-prev-${stamp}`, stopped: false, renamed: false, downMs: 0, ready: false };
  try {
    const raw = await engine.container(item.containerId);
    if (!raw || raw.Name.replace(/^\//, '') !== item.container) throw new SwitchFailed(msg('upgrade:fail.container_changed', { name: item.container }), s);
    const old = await engine.image(raw.Image);
    const spec = recreateSpec(raw, old?.raw ?? null, image, item.container);
    s.downSince = Date.now();
    // Set before the call: a stop that fails halfway may still have stopped it.
    s.stopped = true;
    await engine.stop(item.containerId, item.stopTimeoutSec);
    // Also set before the call: a rename that timed out on our side may have happened.
    s.renamed = true;
    await engine.rename(item.containerId, s.prevName);
    s.newId = await engine.createLike(raw, spec, { aliases: true });
    const made = await engine.container(s.newId);
    if (made?.Image !== imageId) throw new UserError(msg('upgrade:errors.image_moved', { image, planned: imageId.slice(7, 19), now: (made?.Image ?? '-').slice(7, 19) }));
    await engine.start(s.newId);
    const { ready, info } = await docker(ctx, item.docker).waitReady(s.newId, { deadlineMs: item.readyTimeoutMs });
    if (!ready) throw new SwitchFailed(msg('upgrade:fail.not_ready', { service: item.service, image, ms: item.readyTimeoutMs, state: stateText(info) }), s);
  } catch (err) {
    // Whatever went wrong, the caller learns how far it got, so that it can be undone.
    if (err instanceof SwitchFailed) throw err;
    throw new SwitchFailed(err instanceof UserError ? err.text : msg('upgrade:fail.docker', { service: item.service, detail: errorMessage(err) }), s);
  }
  s.downMs += Date.now() - s.downSince;
  s.downSince = undefined;
  s.ready = true;
  return s;
}

/**
 * Undoes a switch, whatever part of it was done: the new container removed, the old one renamed
 * back and started, and waited for. Returns whether the old one is ready again, and what went
 * wrong on the way when something did; it throws only when the old container cannot be started.
 */
export async function switchBack(ctx: ExecContext, s: Switched): Promise<{ ready: boolean; state: string; problem?: string }> {
  const { item } = s;
  const engine = engineFor(ctx.config, item.docker);
  s.downSince ??= Date.now();
  let problem: unknown;
  try {
    if (s.newId) {
      await engine.stop(s.newId, item.stopTimeoutSec).catch(() => undefined);
      await engine.remove(s.newId);
    }
    // A create that timed out on our side may still have made the container: whatever holds the
    // service's name now and is not the old container goes too.
    const holder = await engine.container(item.container);
    if (holder && holder.Id !== item.containerId) {
      await engine.stop(holder.Id, item.stopTimeoutSec).catch(() => undefined);
      await engine.remove(holder.Id);
    }
    const old = await engine.container(item.containerId);
    if (s.renamed && old && old.Name.replace(/^\//, '') !== item.container) {
      // The name is free once the new container is gone; a busy engine may take a moment to say so.
      for (let attempt = 0; ; attempt++) {
        try {
          await engine.rename(item.containerId, item.container);
          break;
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(200 * (attempt + 1));
        }
      }
    }
  } catch (err) {
    problem = err;
  }
  // Started whatever happened above: serving under the -prev name is better than being down.
  await engine.start(item.containerId);
  const { ready, info } = await docker(ctx, item.docker).waitReady(item.containerId, { deadlineMs: item.readyTimeoutMs });
  if (ready) {
    s.downMs += Date.now() - s.downSince;
    s.downSince = undefined;
  }
  // Started, though a step before it failed (e.g. it still carries the -prev name): said on the card.
  return { ready, state: stateText(info), ...(problem ? { problem: readerMessage(ctx.t, problem) } : {}) };
}

/** Once verified: the old containers put aside are removed. A failure here is reported, not undone. */
export async function dropPrevious(ctx: ExecContext, s: Switched): Promise<string | undefined> {
  try {
    await engineFor(ctx.config, s.item.docker).remove(s.item.containerId);
    return undefined;
  } catch (err) {
    return readerMessage(ctx.t, err);
  }
}
