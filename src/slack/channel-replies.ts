import type { KnownBlock } from '@slack/types';
import { ErrorCode, type WebClient } from '@slack/web-api';
import { errorMessage } from '../core/errors.ts';
import { userMention } from '../core/mention.ts';
import type { Logger } from '../core/log.ts';
import { fileBytes, redactDeep } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import { escapeMrkdwn, renderReport } from './render.ts';
import { translator, type T } from '../i18n/index.ts';

/** Answers through the command's response_url (Bolt's `respond`): works where the bot cannot post. */
export type Respond = (message: Record<string, unknown>) => Promise<unknown>;

export interface ChannelRepliesOptions {
  /** Identical requests within this long of the first share its message (ms). */
  windowMs: number;
  /** Least time between two chat.postMessage calls to one channel (ms). */
  postIntervalMs: number;
  /** Least time between two updates of one shared message (ms). */
  updateIntervalMs: number;
  /** Requesters named on one message; more open a new one. */
  maxNamed: number;
  /** Messages waiting for their turn in one channel; beyond that, replies go through response_url. */
  maxPendingPerChannel: number;
  /** How long one post may keep waiting out 429s before its requesters are answered another way (ms). */
  maxRetryMs: number;
}

// The bot may not be a member of the channel (private channels, DMs): then the response_url,
// which works anywhere the command was typed, carries the reply instead.
const FALLBACK_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);
const MAX_BLOCKS = 50;

interface Group {
  channel: string;
  key?: string;
  report: Report;
  /** The channel's language (every requester reads the same message). */
  t: T;
  /** user → their response_url, for answers when the message cannot name them. */
  requesters: Map<string, Respond>;
  /** Requests joined, repeats by one user included. */
  requests: number;
  /** How many of `requesters` the message in Slack names now. */
  named: number;
  openedAt: number;
  ts?: string;
  closed: boolean;
  expiry?: NodeJS.Timeout;
  updating: boolean;
  lastUpdate: number;
  timer?: NodeJS.Timeout;
  /** A post for the system (an alert card), not for requesters: told its ts, or why it failed. */
  posted?: { resolve: (ts: { channel: string; ts: string }) => void; reject: (err: unknown) => void };
}

interface Lane {
  queue: Group[];
  lastPost: number;
  busy: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const slackError = (err: unknown) => (err as { data?: { error?: string } }).data?.error;

/**
 * In-channel replies. Identical read-only requests in one channel within `windowMs` share one
 * message that names everyone who asked and is updated in place (at most once per
 * `updateIntervalMs`). Posts to one channel wait their turn (at most one chat.postMessage per
 * `postIntervalMs`), and a 429 holds back only that channel: the client given here must reject
 * rate-limited calls, and the wait happens in this channel's lane, not in the client's shared queue.
 */
export class ChannelReplies {
  private readonly groups = new Map<string, Group>();
  private readonly lanes = new Map<string, Lane>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly client: WebClient, private readonly opts: ChannelRepliesOptions, private readonly log: Logger) {}

  /**
   * Delivers one requester's report. With a `key`, joins the channel's open message for that key
   * or opens one. Resolves once the reply is accepted, not when Slack has it: posting waits its turn.
   * `t` is the channel's language, for the "asked by" line this class adds.
   */
  deliver(channel: string, key: string | undefined, user: string, report: Report, respond: Respond, t: T = translator('en')): void {
    const id = key === undefined || report.attachment ? undefined : `${channel}\u0000${key}`;
    const open = id === undefined ? undefined : this.groups.get(id);
    if (open && this.joinable(open) && (open.requesters.has(user) || open.requesters.size < this.opts.maxNamed)) {
      open.report = report;
      open.t = t;
      open.requests++;
      if (!open.requesters.has(user)) open.requesters.set(user, respond);
      if (open.ts) this.scheduleUpdate(open);
      return;
    }
    const group: Group = {
      channel, key: id, report, t, requesters: new Map([[user, respond]]), requests: 1, named: 0,
      openedAt: Date.now(), closed: false, updating: false, lastUpdate: 0,
    };
    let lane = this.lanes.get(channel);
    if (!lane) this.lanes.set(channel, (lane = { queue: [], lastPost: 0, busy: false }));
    if (lane.queue.length >= this.opts.maxPendingPerChannel) {
      // The channel's backlog is full: answer through response_url rather than grow the backlog.
      this.track(this.fallback(group, 'in_channel'));
      return;
    }
    if (id !== undefined) this.groups.set(id, group);
    lane.queue.push(group);
    if (!lane.busy) this.track(this.drain(channel, lane));
  }

  /**
   * Posts a message of the bot's own (an alert card) in the channel's turn, behind the replies
   * already waiting there, and resolves with its ts. A 429 is waited out in the lane. There is no
   * response_url to fall back on, so it is never refused for a full backlog: a burst is paced,
   * not dropped. It rejects only when Slack refuses it outright or keeps refusing past maxRetryMs.
   */
  post(channel: string, report: Report, t: T = translator('en')): Promise<{ channel: string; ts: string }> {
    return new Promise((resolve, reject) => {
      const group: Group = {
        channel, report, t, requesters: new Map(), requests: 1, named: 0,
        openedAt: Date.now(), closed: true, updating: false, lastUpdate: 0, posted: { resolve, reject },
      };
      let lane = this.lanes.get(channel);
      if (!lane) this.lanes.set(channel, (lane = { queue: [], lastPost: 0, busy: false }));
      lane.queue.push(group);
      if (!lane.busy) this.track(this.drain(channel, lane));
    });
  }

  /** Resolves once every accepted reply is posted or answered otherwise. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Shutdown: sends every pending update now. */
  async flush(): Promise<void> {
    for (const g of this.groups.values()) {
      if (g.ts && g.timer) {
        clearTimeout(g.timer);
        g.timer = undefined;
        this.track(this.update(g));
      }
    }
    await this.idle();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * A message takes more requesters while it waits for its turn (or is being posted), and after
   * that until `windowMs` from its first request.
   */
  private joinable(group: Group): boolean {
    return !group.closed && (!group.ts || Date.now() - group.openedAt < this.opts.windowMs);
  }

  /** Forgets a posted group once its window is over and its last update is done. */
  private expire(group: Group): void {
    if (!group.ts || group.closed || group.updating || group.timer) return;
    const left = group.openedAt + this.opts.windowMs - Date.now();
    if (left > 0) {
      group.expiry ??= setTimeout(() => {
        group.expiry = undefined;
        this.expire(group);
      }, left);
      group.expiry.unref?.();
      return;
    }
    this.closeNow(group);
  }

  /** One channel's posts, one at a time, spaced by postIntervalMs. */
  private async drain(channel: string, lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      for (let group = lane.queue.shift(); group; group = lane.queue.shift()) {
        const wait = lane.lastPost + this.opts.postIntervalMs - Date.now();
        if (wait > 0) await sleep(wait);
        await this.postGroup(group, lane);
      }
    } finally {
      lane.busy = false;
      // The lane remembers its last post for one interval, so the next reply still waits its turn.
      if (lane.queue.length === 0) {
        setTimeout(() => {
          if (!lane.busy && lane.queue.length === 0 && this.lanes.get(channel) === lane) this.lanes.delete(channel);
        }, this.opts.postIntervalMs).unref();
      }
    }
  }

  private render(group: Group): { text: string; blocks: KnownBlock[] } {
    const { t } = group;
    const message = redactDeep(renderReport(group.report, t));
    group.named = group.requesters.size;
    if (group.key === undefined && group.requests === 1) return message;
    const names = [...group.requesters.keys()].map(userMention);
    const text = group.requests > group.requesters.size
      ? t('slack:asked_by_repeats', { names: t.list(names), requests: group.requests })
      : t('slack:asked_by', { names: t.list(names) });
    // The bot's own mentions (src/core/mention.ts) stay live through escaping; nothing else could.
    const asked: KnownBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(text) }] };
    const blocks = message.blocks.length >= MAX_BLOCKS ? [...message.blocks.slice(0, MAX_BLOCKS - 1), asked] : [...message.blocks, asked];
    return { text: message.text, blocks };
  }

  private async postGroup(group: Group, lane: Lane): Promise<void> {
    const started = Date.now();
    for (;;) {
      lane.lastPost = Date.now();
      try {
        const res = await this.client.chat.postMessage({ channel: group.channel, ...this.render(group) });
        group.ts = res.ts;
        if (group.posted) {
          group.posted.resolve({ channel: res.channel ?? group.channel, ts: res.ts! });
          return;
        }
        group.lastUpdate = Date.now();
        const file = group.report.attachment;
        if (file) {
          await this.client.filesUploadV2({
            channel_id: group.channel, thread_ts: res.ts!, filename: file.filename, title: file.title,
            file: fileBytes(file.content),
          }).catch((err: unknown) => this.log.error({ err: errorMessage(err), channel: group.channel }, 'file upload failed'));
        }
        // Requesters who joined while the post was in flight.
        if (group.named < group.requesters.size) this.scheduleUpdate(group);
        else this.expire(group);
        return;
      } catch (err) {
        const retryAfter = (err as { code?: string; retryAfter?: number }).code === ErrorCode.RateLimitedError ? (err as { retryAfter: number }).retryAfter : undefined;
        if (retryAfter !== undefined && Date.now() - started + retryAfter * 1000 <= this.opts.maxRetryMs) {
          this.log.info({ channel: group.channel, retryAfter }, 'chat.postMessage rate limited; this channel waits');
          await sleep(retryAfter * 1000);
          continue;
        }
        if (group.posted) {
          group.posted.reject(err);
          return;
        }
        const code = slackError(err);
        if (!code || !FALLBACK_ERRORS.has(code)) this.log.error({ err: errorMessage(err), channel: group.channel }, 'posting a reply failed; answering through response_url');
        else this.log.info({ channel: group.channel, code }, 'posting through response_url');
        this.closeNow(group);
        await this.fallback(group, code && FALLBACK_ERRORS.has(code) ? 'in_channel' : 'ephemeral');
        return;
      }
    }
  }

  private closeNow(group: Group): void {
    group.closed = true;
    clearTimeout(group.expiry);
    if (group.key !== undefined && this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  /**
   * Answers without a channel message: one in-channel response naming everyone, or each requester
   * on their own, so that nobody is left without an answer.
   */
  private async fallback(group: Group, kind: 'in_channel' | 'ephemeral', users = [...group.requesters.keys()]): Promise<void> {
    const message = this.render(group);
    const first = group.requesters.get(users[0]);
    if (kind === 'in_channel' && first) {
      await first({ response_type: 'in_channel', replace_original: false, ...message }).catch((err: unknown) =>
        this.log.error({ err: errorMessage(err), channel: group.channel }, 'reply through response_url failed'));
      return;
    }
    const plain = redactDeep(renderReport(group.report, group.t));
    await Promise.all(users.map((u) => group.requesters.get(u)!({ response_type: 'ephemeral', replace_original: false, ...plain }).catch((err: unknown) =>
      this.log.error({ err: errorMessage(err), channel: group.channel, user: u }, 'reply through response_url failed'))));
  }

  private scheduleUpdate(group: Group): void {
    if (group.timer || group.updating) return; // the pending update will carry the latest state
    const wait = Math.max(0, group.lastUpdate + this.opts.updateIntervalMs - Date.now());
    group.timer = setTimeout(() => {
      group.timer = undefined;
      this.track(this.update(group));
    }, wait);
  }

  private async update(group: Group): Promise<void> {
    group.updating = true;
    const before = group.named;
    try {
      await this.client.chat.update({ channel: group.channel, ts: group.ts!, ...this.render(group) });
      group.lastUpdate = Date.now();
    } catch (err) {
      const retryAfter = (err as { code?: string; retryAfter?: number }).code === ErrorCode.RateLimitedError ? (err as { retryAfter: number }).retryAfter : undefined;
      if (retryAfter !== undefined) {
        group.named = before;
        group.lastUpdate = Date.now() + retryAfter * 1000 - this.opts.updateIntervalMs;
      } else {
        // Those this update would have named hear it on their own.
        this.log.error({ err: errorMessage(err), channel: group.channel }, 'updating a shared reply failed; answering the new requesters directly');
        const missed = new Map([...group.requesters].slice(before));
        group.named = before;
        for (const u of missed.keys()) group.requesters.delete(u);
        await this.fallback({ ...group, requesters: missed }, 'ephemeral');
      }
    } finally {
      group.updating = false;
      if (group.named < group.requesters.size) this.scheduleUpdate(group);
      else this.expire(group);
    }
  }
}
