// The fake Slack's channels: conversations.*, pins.* and chat.getPermalink, with Slack's argument
// names, result shapes and error codes. fake-slack.ts owns the HTTP side and the message store;
// this module keeps the channel records and answers the methods that read or change them.
//
// Channels a test never created (C0OPS, C0APPROVALS…) still work, as they do in a real workspace
// the bot is already in: any well-formed channel id is taken as an existing public channel with
// the bot as a member, named after its id. They are left out of `channels()`, which lists only
// what conversations.create or `addChannel` made, so a test can count the channels it caused.
import { randomUUID } from 'node:crypto';

export interface FakeSlackChannel {
  id: string;
  name: string;
  is_private: boolean;
  /** Epoch seconds, as Slack's `created`. */
  created: number;
  creator: string;
  /** The topic's text (Slack's `topic.value`). */
  topic: string;
  purpose: string;
  members: string[];
  archived: boolean;
  /** Timestamps of the pinned messages, oldest pin first. */
  pins: string[];
}

export interface AddChannelOptions {
  is_private?: boolean;
  /** Members besides the bot. */
  members?: string[];
  /** false: the bot is not a member (to test not_in_channel). */
  botMember?: boolean;
  archived?: boolean;
  topic?: string;
}

export interface UserMessageOptions {
  /** Posts the message as a reply in this thread. */
  thread_ts?: string;
  /** When the message was written; its ts is this time (kept unique in the channel). */
  at?: Date | number;
}

interface Stored {
  channel: string;
  ts: string;
  [key: string]: any;
}

/** What the channel store needs from the fake around it. */
export interface ChannelContext {
  messages: Stored[];
  nextTs(): string;
  /** A ts at `ms` (epoch milliseconds) that no message in `channel` has yet. */
  tsAt(ms: number, channel: string): string;
  nextId(prefix: string): string;
  team: { id: string; domain: string };
  bot: { userId: string; botId: string; appId: string };
}

type Result = Record<string, any>;
type Args = Record<string, any>;

const fail = (error: string, extra: Result = {}): Result => ({ ok: false, error, ...extra });
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
/** Slack's conversation ids: C (channels), G (old private channels), D (DMs), upper-case base36. */
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const TS = /^\d+(\.\d+)?$/;
const NAME_MAX = 80;
const TOPIC_MAX = 250;

/** A Slack ts as integer microseconds, for ordering and range filters. */
export function tsMicros(ts: string): number {
  const [s, f = ''] = ts.split('.');
  return Number(s) * 1e6 + Number(f.padEnd(6, '0').slice(0, 6));
}

/** Slack's channel-name rules, in the order of its error codes. */
export function channelNameError(name: string): string | undefined {
  if (name === '') return 'invalid_name_required';
  if (name.length > NAME_MAX) return 'invalid_name_maxlength';
  if (!/^[a-z0-9_-]+$/.test(name)) return 'invalid_name_specials';
  if (!/[a-z0-9]/.test(name)) return 'invalid_name_punctuation';
  return undefined;
}

interface ChannelRecord extends FakeSlackChannel {
  /** Never created here: an id a test or config used (C0OPS). */
  implicit: boolean;
  topicSetBy: string;
  topicSetAt: number;
  pinMeta: Map<string, { created: number; created_by: string }>;
}

const now = () => Math.floor(Date.now() / 1000);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export function createChannels(ctx: ChannelContext) {
  const byId = new Map<string, ChannelRecord>();
  const { userId: BOT } = ctx.bot;

  function make(id: string, name: string, opts: AddChannelOptions & { implicit?: boolean; creator?: string }): ChannelRecord {
    const created = now();
    const members = [...new Set([...(opts.botMember === false ? [] : [BOT]), ...(opts.members ?? [])])];
    const record: ChannelRecord = {
      id,
      name,
      is_private: opts.is_private ?? false,
      created,
      creator: opts.creator ?? BOT,
      topic: opts.topic ?? '',
      purpose: '',
      members,
      archived: opts.archived ?? false,
      pins: [],
      implicit: opts.implicit ?? false,
      topicSetBy: opts.topic ? BOT : '',
      topicSetAt: opts.topic ? created : 0,
      pinMeta: new Map(),
    };
    byId.set(id, record);
    return record;
  }

  const byName = (name: string) => [...byId.values()].find((c) => !c.implicit && c.name === name.replace(/^#/, ''));

  /** The channel an API argument names, or undefined (channel_not_found). Ids only, as Slack's conversations.* take. */
  function find(channel: unknown): ChannelRecord | undefined {
    if (!present(channel)) return undefined;
    const id = String(channel);
    const known = byId.get(id);
    if (known) return known;
    return CHANNEL_ID.test(id) ? make(id, id.toLowerCase(), { implicit: true }) : undefined;
  }

  const view = (c: ChannelRecord): FakeSlackChannel => ({
    id: c.id,
    name: c.name,
    is_private: c.is_private,
    created: c.created,
    creator: c.creator,
    topic: c.topic,
    purpose: c.purpose,
    members: [...c.members],
    archived: c.archived,
    pins: [...c.pins],
  });

  /** The channel object Slack returns from conversations.create, .info, .invite and .setTopic. */
  function wireChannel(c: ChannelRecord, extra: Result = {}): Result {
    return {
      id: c.id,
      name: c.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      created: c.created,
      creator: c.creator,
      is_archived: c.archived,
      is_general: false,
      unlinked: 0,
      name_normalized: c.name,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      pending_shared: [],
      is_pending_ext_shared: false,
      is_member: c.members.includes(BOT),
      context_team_id: ctx.team.id,
      updated: Date.now(),
      last_read: '0000000000.000000',
      topic: { value: c.topic, creator: c.topicSetBy, last_set: c.topicSetAt },
      purpose: { value: c.purpose, creator: '', last_set: 0 },
      previous_names: [],
      priority: 0,
      ...extra,
    };
  }

  /** Slack writes a system message into the channel for joins, topic changes and archiving. */
  function systemMessage(channel: string, subtype: string, user: string, text: string, extra: Result = {}): void {
    ctx.messages.push({ channel, type: 'message', subtype, user, text, ts: ctx.nextTs(), ...extra });
  }

  const inChannel = (channel: string) => ctx.messages.filter((m) => m.channel === channel);
  const findMessage = (channel: string, ts: string) => ctx.messages.find((m) => m.channel === channel && m.ts === ts);

  /** A stored message as the Web API shows it: no channel field, thread and pin details added. */
  function wireMessage(m: Stored): Result {
    const { channel, ...message } = structuredClone(m);
    if (!m.thread_ts || m.thread_ts === m.ts) {
      const replies = ctx.messages.filter((r) => r.channel === channel && r.thread_ts === m.ts && r.ts !== m.ts);
      if (replies.length) {
        Object.assign(message, {
          thread_ts: m.ts,
          reply_count: replies.length,
          reply_users_count: new Set(replies.map((r) => r.user)).size,
          latest_reply: replies[replies.length - 1].ts,
          reply_users: [...new Set(replies.map((r) => r.user))],
          is_locked: false,
          subscribed: false,
        });
      }
    } else {
      const parent = findMessage(channel, m.thread_ts);
      if (parent) message.parent_user_id = parent.user;
    }
    if (byId.get(channel)?.pins.includes(m.ts)) message.pinned_to = [channel];
    return message;
  }

  /** Applies Slack's oldest/latest/inclusive/limit/cursor to messages sorted as they will be returned. */
  function page(list: Stored[], a: Args, newestFirst: boolean): Result {
    for (const [key, error] of [['latest', 'invalid_ts_latest'], ['oldest', 'invalid_ts_oldest']] as const) {
      if (present(a[key]) && !TS.test(String(a[key]))) return fail(error);
    }
    const inclusive = truthy(a.inclusive);
    const oldest = present(a.oldest) ? tsMicros(String(a.oldest)) : -Infinity;
    const latest = present(a.latest) ? tsMicros(String(a.latest)) : Infinity;
    let rows = list
      .filter((m) => {
        const t = tsMicros(m.ts);
        return (inclusive ? t >= oldest : t > oldest) && (inclusive ? t <= latest : t < latest);
      })
      .sort((x, y) => (newestFirst ? tsMicros(y.ts) - tsMicros(x.ts) : tsMicros(x.ts) - tsMicros(y.ts)));
    if (present(a.cursor)) {
      const m = /^next_ts:(\d+\.\d+)$/.exec(unb64(String(a.cursor)));
      if (!m) return fail('invalid_cursor');
      const from = rows.findIndex((r) => r.ts === m[1]);
      if (from < 0) return fail('invalid_cursor');
      rows = rows.slice(from);
    }
    const asked = Number(a.limit);
    const limit = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 999) : 100;
    const shown = rows.slice(0, limit);
    const more = rows.length > limit;
    return {
      ok: true,
      messages: shown.map(wireMessage),
      has_more: more,
      ...(more && { response_metadata: { next_cursor: b64(`next_ts:${rows[limit].ts}`) } }),
    };
  }

  const permalink = (channel: string, m: Stored): string => {
    const base = `https://${ctx.team.domain}.slack.com/archives/${channel}/p${m.ts.replace('.', '')}`;
    return m.thread_ts && m.thread_ts !== m.ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}` : base;
  };

  const methods: Record<string, (a: Args) => Result> = {
    'conversations.create': (a) => {
      const name = String(a.name ?? '');
      const invalid = channelNameError(name);
      if (invalid) return fail(invalid);
      // Archived channels keep their names, so they are taken too.
      if (byName(name)) return fail('name_taken');
      const c = make(ctx.nextId('C'), name, { is_private: truthy(a.is_private) });
      systemMessage(c.id, 'channel_join', BOT, `<@${BOT}> has joined the channel`);
      return { ok: true, channel: wireChannel(c) };
    },

    'conversations.invite': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      const users = [...new Set(String(a.users ?? '').split(',').map((u) => u.trim()).filter(Boolean))];
      if (!users.length) return fail('no_user');
      if (users.length > 1000) return fail('too_many_users');
      if (c.archived) return fail('is_archived');
      if (!c.members.includes(BOT)) return fail('not_in_channel');
      const errors: Result[] = [];
      const valid: string[] = [];
      for (const user of users) {
        const error = !USER_ID.test(user) ? 'user_not_found' : user === BOT ? 'cant_invite_self' : c.members.includes(user) ? 'already_in_channel' : undefined;
        if (error) errors.push({ user, ok: false, error });
        else valid.push(user);
      }
      // Without force, one bad id fails the whole call and nobody is invited. With force the
      // valid ones are invited; Slack does not say whether that call then reports ok, so the
      // fake takes the stricter reading (ok:false with the same `errors`), and code must treat
      // those errors as the partial outcome they are.
      if (errors.length && !truthy(a.force)) return fail(errors[0].error, { errors });
      for (const user of valid) {
        c.members.push(user);
        systemMessage(c.id, 'channel_join', user, `<@${user}> has joined the channel`, { inviter: BOT });
      }
      return errors.length ? fail(errors[0].error, { errors }) : { ok: true, channel: wireChannel(c) };
    },

    'conversations.setTopic': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      if (c.archived) return fail('is_archived');
      if (!c.members.includes(BOT)) return fail('not_in_channel');
      const topic = String(a.topic ?? '');
      if (topic.length > TOPIC_MAX) return fail('too_long');
      Object.assign(c, { topic, topicSetBy: BOT, topicSetAt: now() });
      systemMessage(c.id, 'channel_topic', BOT, `set the channel topic: ${topic}`, { topic });
      return { ok: true, channel: wireChannel(c) };
    },

    'conversations.archive': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      if (c.archived) return fail('already_archived');
      if (!c.members.includes(BOT)) return fail('not_in_channel');
      systemMessage(c.id, 'channel_archive', BOT, 'archived the channel');
      c.archived = true;
      return { ok: true };
    },

    'conversations.info': (a) => {
      const c = find(a.channel);
      if (!c || (c.is_private && !c.members.includes(BOT))) return fail('channel_not_found');
      return {
        ok: true,
        channel: wireChannel(c, {
          ...(truthy(a.include_num_members) && { num_members: c.members.length }),
          ...(truthy(a.include_locale) && { locale: 'en-US' }),
        }),
      };
    },

    'conversations.members': (a) => {
      const c = find(a.channel);
      if (!c || (c.is_private && !c.members.includes(BOT))) return fail('channel_not_found');
      const start = present(a.cursor) ? Number(/^offset:(\d+)$/.exec(unb64(String(a.cursor)))?.[1] ?? NaN) : 0;
      if (!Number.isInteger(start)) return fail('invalid_cursor');
      const asked = Number(a.limit);
      const limit = Number.isFinite(asked) && asked > 0 ? Math.min(asked, 1000) : 100;
      const next = start + limit < c.members.length ? b64(`offset:${start + limit}`) : '';
      return { ok: true, members: c.members.slice(start, start + limit), response_metadata: { next_cursor: next } };
    },

    'conversations.history': (a) => {
      const c = find(a.channel);
      if (!c || (c.is_private && !c.members.includes(BOT))) return fail('channel_not_found');
      if (!c.members.includes(BOT)) return fail('not_in_channel');
      // Thread replies stay in their thread; history shows only top-level messages.
      const top = inChannel(c.id).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const result = page(top, a, true);
      return result.ok ? { ...result, pin_count: c.pins.length } : result;
    },

    'conversations.replies': (a) => {
      const c = find(a.channel);
      if (!c || (c.is_private && !c.members.includes(BOT))) return fail('channel_not_found');
      if (!present(a.ts) || !TS.test(String(a.ts))) return fail('thread_not_found');
      const ts = String(a.ts);
      const asked = findMessage(c.id, ts);
      if (!asked) return fail('thread_not_found');
      // Asked for a reply, Slack answers with the thread it belongs to.
      const root = asked.thread_ts ?? asked.ts;
      const parent = findMessage(c.id, root);
      const replies = inChannel(c.id).filter((m) => m.thread_ts === root && m.ts !== root);
      const result = page(replies, a, false);
      if (!result.ok) return result;
      // The parent leads every page, as in Slack's answers.
      return parent && !present(a.cursor) ? { ...result, messages: [wireMessage(parent), ...result.messages] } : result;
    },

    'pins.add': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      if (!present(a.timestamp)) return fail('no_item_specified');
      const ts = String(a.timestamp);
      if (!TS.test(ts)) return fail('bad_timestamp');
      if (!findMessage(c.id, ts)) return fail('message_not_found');
      if (c.pins.includes(ts)) return fail('already_pinned');
      c.pins.push(ts);
      c.pinMeta.set(ts, { created: now(), created_by: BOT });
      return { ok: true };
    },

    'pins.remove': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      if (!present(a.timestamp)) return fail('no_item_specified');
      const ts = String(a.timestamp);
      if (!c.pins.includes(ts)) return fail('no_pin');
      c.pins.splice(c.pins.indexOf(ts), 1);
      c.pinMeta.delete(ts);
      return { ok: true };
    },

    'pins.list': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      const items = [...c.pins].reverse().flatMap((ts) => {
        const m = findMessage(c.id, ts);
        if (!m) return [];
        const meta = c.pinMeta.get(ts)!;
        return [{ type: 'message', channel: c.id, created: meta.created, created_by: meta.created_by, message: { ...wireMessage(m), permalink: permalink(c.id, m) } }];
      });
      return { ok: true, items };
    },

    'chat.getPermalink': (a) => {
      const c = find(a.channel);
      if (!c) return fail('channel_not_found');
      const m = present(a.message_ts) ? findMessage(c.id, String(a.message_ts)) : undefined;
      if (!m) return fail('message_not_found');
      return { ok: true, channel: c.id, permalink: permalink(c.id, m) };
    },
  };

  return {
    methods,

    /**
     * Where chat.postMessage/postEphemeral may post: the channel id to record the message under,
     * or the error Slack gives. A name (with or without #) of a known channel resolves to its id,
     * as Slack does; a user id (a DM) and ids never seen are posted to as given.
     */
    postTarget(channel: string): { id: string } | { error: string } {
      const c = byId.get(channel) ?? byName(channel);
      if (!c) return { id: channel };
      if (c.archived) return { error: 'is_archived' };
      if (c.is_private && !c.members.includes(BOT)) return { error: 'channel_not_found' };
      return { id: c.id };
    },

    /** chat.update in an archived channel: Slack's is_inactive. */
    updateError(channel: string): string | undefined {
      return byId.get(channel)?.archived ? 'is_inactive' : undefined;
    },

    channels: (): FakeSlackChannel[] => [...byId.values()].filter((c) => !c.implicit).map(view),

    channel(idOrName: string): FakeSlackChannel | undefined {
      const c = byId.get(idOrName) ?? byName(idOrName);
      return c && view(c);
    },

    addChannel(name: string, opts: AddChannelOptions = {}): FakeSlackChannel {
      if (byName(name)) throw new Error(`fake Slack: a channel named ${name} exists already`);
      return view(make(ctx.nextId('C'), name, opts));
    },

    addUserMessage(channel: string, user: string, text: string, opts: UserMessageOptions = {}): string {
      const id = byName(channel)?.id ?? channel;
      const ts = opts.at === undefined ? ctx.nextTs() : ctx.tsAt(typeof opts.at === 'number' ? opts.at : opts.at.getTime(), id);
      ctx.messages.push({
        channel: id,
        type: 'message',
        user,
        text,
        ts,
        team: ctx.team.id,
        client_msg_id: randomUUID(),
        // What Slack's clients send: the text again as one rich_text section.
        blocks: [{ type: 'rich_text', block_id: randomUUID().slice(0, 5), elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }] }],
        ...(opts.thread_ts && { thread_ts: opts.thread_ts, parent_user_id: findMessage(id, opts.thread_ts)?.user }),
      });
      return ts;
    },

    addReaction(channel: string, ts: string, user: string, reaction: string): Stored {
      const m = findMessage(byName(channel)?.id ?? channel, ts);
      if (!m) throw new Error(`fake Slack: no message ${ts} in ${channel}`);
      const reactions: Array<{ name: string; users: string[]; count: number }> = (m.reactions ??= []);
      const r = reactions.find((x) => x.name === reaction) ?? reactions[reactions.push({ name: reaction, users: [], count: 0 }) - 1];
      if (!r.users.includes(user)) r.users.push(user);
      r.count = r.users.length;
      return m;
    },

    reset(): void {
      byId.clear();
    },
  };
}

export type FakeSlackChannels = ReturnType<typeof createChannels>;
