/**
 * §7.1 step 7 (验证功能), kept up for a while: once every new container is ready, each must stay
 * running and not unhealthy, without restarting, and the smoke check from config must pass, again
 * and again until `settle` has passed. The first failure ends it.
 */
import type { Config } from '../config/schema.ts';
import type { ExecContext } from '../core/define-command.ts';
import { errorMessage } from '../core/errors.ts';
import { msg, type Msg } from '../i18n/index.ts';
import { engineFor } from './plan.ts';
import { stateText, type Switched } from './switch.ts';

type Smoke = NonNullable<Config['upgrade']['smoke']>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const EVERY_MS = 1000;
/** Of a response body, only this much is read and shown. */
const BODY_MAX = 4096;

/** One smoke check; undefined when it passed, else why not. */
export async function smokeOnce(ctx: ExecContext, smoke: Smoke, switched: Switched[]): Promise<Msg | undefined> {
  if ('url' in smoke) {
    try {
      const res = await fetch(smoke.url, { signal: AbortSignal.timeout(smoke.timeout), redirect: 'manual' });
      const body = (await res.text()).slice(0, BODY_MAX);
      if (res.status !== smoke.expect_status) return msg('upgrade:smoke.status', { url: smoke.url, status: res.status, expected: smoke.expect_status });
      if (smoke.expect_text !== undefined && !body.includes(smoke.expect_text)) return msg('upgrade:smoke.text', { url: smoke.url, text: smoke.expect_text, body: body.slice(0, 200).trim() });
      return undefined;
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return msg('upgrade:smoke.timeout', { url: smoke.url, ms: smoke.timeout });
      return msg('upgrade:smoke.unreachable', { url: smoke.url, detail: errorMessage((err as { cause?: unknown }).cause ?? err) });
    }
  }
  const target = switched.find((s) => s.item.service === (smoke.service ?? switched[0].item.service)) ?? switched[0];
  const r = await engineFor(ctx.config, target.item.docker).exec(target.newId!, smoke.command, smoke.timeout);
  if (r.code === 0) return undefined;
  const tail = r.output.trim().split('\n').slice(-3).join(' / ');
  return r.code === null
    ? msg('upgrade:smoke.command_timeout', { command: smoke.command.join(' '), service: target.item.service, ms: smoke.timeout })
    : msg('upgrade:smoke.command', { command: smoke.command.join(' '), service: target.item.service, code: r.code, output: tail });
}

/** Health of every new container, and the smoke check, until `settleMs` has passed; the first problem, or undefined. */
export async function settle(ctx: ExecContext, switched: Switched[], settleMs: number): Promise<Msg | undefined> {
  const smoke = ctx.config.upgrade.smoke;
  const firstSeen = new Map<string, { startedAt: number | undefined; restarts: number }>();
  const end = Date.now() + settleMs;
  for (;;) {
    for (const s of switched) {
      const info = await ctx.targets.docker.get(s.item.docker)!.inspect(s.newId!);
      if (!info || info.state !== 'running' || info.health === 'unhealthy') return msg('upgrade:fail.unhealthy', { service: s.item.service, state: stateText(info) });
      const was = firstSeen.get(s.item.service);
      const now = { startedAt: info.startedAt?.getTime(), restarts: info.restartCount };
      if (!was) firstSeen.set(s.item.service, now);
      else if (was.startedAt !== now.startedAt || was.restarts !== now.restarts) return msg('upgrade:fail.restarted', { service: s.item.service });
    }
    if (smoke) {
      const why = await smokeOnce(ctx, smoke, switched);
      if (why) return why;
    }
    const left = end - Date.now();
    if (left <= 0) return undefined;
    ctx.status(ctx.t('upgrade:progress.settle_left', { ms: left }));
    await sleep(Math.min(EVERY_MS, left));
  }
}
