import type { WebClient } from '@slack/web-api';
import type { Config } from '../config/schema.ts';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import type { Logger } from '../core/log.ts';
import type { Rbac } from '../core/rbac.ts';
import type { Readers } from '../i18n/readers.ts';
import type { Queryable } from '../store/types.ts';
import { userMention } from '../core/mention.ts';
import { channelPoster, type ChannelPost } from './post.ts';
import { Scheduler, type Job } from './scheduler.ts';

export { Scheduler, DEFAULT_CATCH_UP, type Fire, type Job, type ScheduleOptions, type ScheduleHandle, type ScheduleInfo } from './scheduler.ts';
export type { When } from './timing.ts';

/** The actor a config schedule runs as: roles may name it, audit rows show it. */
export const scheduleActor = (name: string): string => `schedule:${name}`;

/** What /schedule needs: the scheduler, and who may run a schedule by hand. */
export interface Schedules {
  scheduler: Scheduler;
  /** Admins, and the roles in `permissions.schedule`, may run a schedule now. */
  mayRunByHand(user: string): Promise<boolean>;
}

// Commands reach the bot's scheduler through its config, as /health reaches its shared runs
// through its targets: the command context stays the same for every command.
const byConfig = new WeakMap<Config, Schedules>();

export function schedulesFor(config: Config): Schedules | undefined {
  return byConfig.get(config);
}

export interface ScheduleDeps {
  store: Queryable;
  config: Config;
  dispatcher: Dispatcher;
  rbac: Rbac;
  readers: Readers;
  /** The bot's Web API client: schedule posts and missed-fire notices go through it. */
  client: WebClient;
  log: Logger;
  now?: () => number;
}

/**
 * The scheduler with every config schedule registered (not started: call `start()` once the bot
 * serves, and `stop()` before the dispatcher drains).
 */
export function createSchedules(deps: ScheduleDeps): Schedules {
  const post = channelPoster(deps.client);
  const scheduler = new Scheduler({
    store: deps.store, timeZone: deps.config.timezone, log: deps.log.child({ component: 'schedule' }), now: deps.now,
    async missed({ name, at, channel, next }) {
      const t = deps.readers.forChannel(channel);
      const summary = next ? t('schedule:missed.summary_next', { name, at: t.time(at), next: t.time(next) }) : t('schedule:missed.summary', { name, at: t.time(at) });
      await post(channel, { title: t('schedule:missed.title', { name }), status: 'warn', summary }, t);
    },
  });
  for (const [name, def] of Object.entries(deps.config.schedules)) {
    scheduler.schedule(name, def.cron, commandJob(deps, post, name, def), {
      catchUp: def.catch_up, channel: def.channel, label: def.command, enabled: def.enabled,
    });
  }
  const schedules: Schedules = {
    scheduler,
    async mayRunByHand(user) {
      const roles = await deps.rbac.rolesOf(user);
      return roles.has('admin') || (deps.config.permissions.schedule?.roles ?? []).some((r) => roles.has(r));
    },
  };
  byConfig.set(deps.config, schedules);
  return schedules;
}

/** "/health redis" → { command: "/health", text: "redis" }. */
export function splitCommandLine(line: string): { command: string; text: string } {
  const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(line);
  return { command: m?.[1] ?? line, text: (m?.[2] ?? '').trim() };
}

/** What a reply's outcome was when the dispatcher did not say. */
const fallbackOutcome = (reply: Reply): string => (reply.report.status === 'info' ? 'ok' : reply.report.status);

/**
 * A config schedule's fire: its command line through the dispatcher as `schedule:<name>` in its
 * channel, so roles, channel limits, rate limits, audit and approvals apply as to anyone. The
 * reply is posted in the channel. Replies that would be private (a refusal, "approval requested")
 * are posted there too: a schedule has nobody to whisper to, and its channel must see that it failed.
 */
function commandJob(deps: ScheduleDeps, post: ChannelPost, name: string, def: Config['schedules'][string]): Job {
  const { command, text } = splitCommandLine(def.command);
  return async (fire) => {
    let outcome: string | undefined;
    await deps.dispatcher.handle({ command, text, user: scheduleActor(name), channel: def.channel }, async (reply) => {
      outcome = reply.outcome ?? fallbackOutcome(reply);
      const t = reply.t ?? deps.readers.forChannel(def.channel);
      const note = fire.kind === 'manual' && fire.by
        ? t('schedule:footer.manual', { name, user: userMention(fire.by) })
        : fire.kind === 'catch_up' ? t('schedule:footer.catch_up', { name, at: t.time(fire.at) }) : t('schedule:footer.fire', { name });
      const report = { ...reply.report, footer: reply.report.footer ? `${reply.report.footer} · ${note}` : note };
      try {
        await post(def.channel, report, t);
      } catch (err) {
        outcome = 'post_failed';
        throw err;
      }
    });
    return outcome;
  };
}
