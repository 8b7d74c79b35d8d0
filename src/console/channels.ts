/**
 * The console's stand-in for a workspace's channels: what conversations.create, .invite,
 * .setTopic, .archive, pins.add and the history methods keep, answered in Slack's shapes and with
 * Slack's error codes, so that a feature behaves in the console as it would in Slack (a taken
 * name gets its suffix, an archived channel refuses posts). The transport prints; this keeps state.
 */

type Result = Record<string, unknown> & { ok: boolean };
type Args = Record<string, unknown>;

export interface ConsoleChannel {
  id: string;
  name: string;
  is_private: boolean;
  created: number;
  topic: string;
  topicSetAt: number;
  members: string[];
  archived: boolean;
  pins: string[];
}

export interface ConsoleMessage {
  channel: string;
  ts: string;
  user: string;
  text?: string;
  blocks?: unknown;
  thread_ts?: string;
}

/** Messages kept for conversations.history: enough for any console session, bounded for a long one. */
const KEPT = 2000;
const fail = (error: string, extra: Args = {}): Result => ({ ok: false, error, ...extra });
const present = (v: unknown) => v !== undefined && v !== null && v !== '';
const truthy = (v: unknown) => v === true || v === 'true' || v === '1' || v === 1;
const micros = (ts: string) => {
  const [s, f = ''] = ts.split('.');
  return Number(s) * 1e6 + Number(f.padEnd(6, '0').slice(0, 6));
};

/** Blocks arrive as a JSON string inside the form; history returns them as objects. */
const parsed = (blocks: unknown) => {
  if (typeof blocks !== 'string') return blocks;
  try {
    return JSON.parse(blocks) as unknown;
  } catch {
    return undefined;
  }
};

/** Slack's channel-name rules and their error codes. */
export function channelNameError(name: string): string | undefined {
  if (!name) return 'invalid_name_required';
  if (name.length > 80) return 'invalid_name_maxlength';
  if (!/^[a-z0-9_-]+$/.test(name)) return 'invalid_name_specials';
  if (!/[a-z0-9]/.test(name)) return 'invalid_name_punctuation';
  return undefined;
}

export class ConsoleChannels {
  private readonly byId = new Map<string, ConsoleChannel>();
  private readonly messages: ConsoleMessage[] = [];
  private seq = 0;

  constructor(private readonly botUserId: string) {}

  /** A channel this console created, by id or name. */
  get(idOrName: string): ConsoleChannel | undefined {
    return this.byId.get(idOrName) ?? [...this.byId.values()].find((c) => c.name === idOrName.replace(/^#/, ''));
  }

  /** Remembers a message the console printed, for history and permalinks. */
  record(message: ConsoleMessage): void {
    this.messages.push({ ...message, blocks: parsed(message.blocks) });
    if (this.messages.length > KEPT) this.messages.splice(0, this.messages.length - KEPT);
  }

  /** chat.update: history shows a message as last edited. */
  edit(channel: string, ts: string, text: string | undefined, blocks: unknown): void {
    const m = this.messages.find((x) => x.channel === channel && x.ts === ts);
    if (!m) return;
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = parsed(blocks);
  }

  /** Slack's answer to a channel method, or undefined when `method` is not one of them. */
  call(method: string, a: Args): Result | undefined {
    switch (method) {
      case 'conversations.create':
        return this.create(a);
      case 'conversations.invite':
        return this.invite(a);
      case 'conversations.setTopic': {
        const c = this.byId.get(String(a.channel ?? ''));
        if (!c) return fail('channel_not_found');
        if (c.archived) return fail('is_archived');
        const topic = String(a.topic ?? '');
        if (topic.length > 250) return fail('too_long');
        Object.assign(c, { topic, topicSetAt: Math.floor(Date.now() / 1000) });
        return { ok: true, channel: this.wire(c) };
      }
      case 'conversations.archive': {
        const c = this.byId.get(String(a.channel ?? ''));
        if (!c) return fail('channel_not_found');
        if (c.archived) return fail('already_archived');
        c.archived = true;
        return { ok: true };
      }
      case 'conversations.info':
        return { ok: true, channel: this.wire(this.lookup(String(a.channel ?? '')), truthy(a.include_num_members)) };
      case 'conversations.members':
        return { ok: true, members: [...this.lookup(String(a.channel ?? '')).members], response_metadata: { next_cursor: '' } };
      case 'conversations.history':
        return this.history(a);
      case 'conversations.replies': {
        const channel = String(a.channel ?? '');
        const ts = String(a.ts ?? '');
        const parent = this.messages.find((m) => m.channel === channel && m.ts === ts);
        if (!parent) return fail('thread_not_found');
        const root = parent.thread_ts ?? parent.ts;
        const thread = this.messages.filter((m) => m.channel === channel && (m.ts === root || m.thread_ts === root));
        return { ok: true, messages: thread.map((m) => this.wireMessage(m)), has_more: false };
      }
      case 'pins.add': {
        const c = this.lookup(String(a.channel ?? ''));
        const ts = String(a.timestamp ?? '');
        if (!present(a.timestamp)) return fail('no_item_specified');
        if (c.pins.includes(ts)) return fail('already_pinned');
        c.pins.push(ts);
        return { ok: true };
      }
      case 'pins.list': {
        const c = this.lookup(String(a.channel ?? ''));
        const items = c.pins.flatMap((ts) => {
          const m = this.messages.find((x) => x.channel === c.id && x.ts === ts);
          return m ? [{ type: 'message', channel: c.id, created_by: this.botUserId, message: this.wireMessage(m) }] : [];
        });
        return { ok: true, items };
      }
      case 'chat.getPermalink': {
        const channel = String(a.channel ?? '');
        const ts = String(a.message_ts ?? '');
        if (!channel) return fail('channel_not_found');
        return { ok: true, channel, permalink: this.permalink(channel, ts) };
      }
      default:
        return undefined;
    }
  }

  /** A link to a message; nothing serves it, but it has Slack's form and names the channel and message. */
  permalink(channel: string, ts: string): string {
    const m = this.messages.find((x) => x.channel === channel && x.ts === ts);
    const base = `http://console.invalid/archives/${channel}/p${ts.replace('.', '')}`;
    return m?.thread_ts && m.thread_ts !== ts ? `${base}?thread_ts=${m.thread_ts}&cid=${channel}` : base;
  }

  private create(a: Args): Result {
    const name = String(a.name ?? '');
    const invalid = channelNameError(name);
    if (invalid) return fail(invalid);
    if (this.get(name)) return fail('name_taken');
    const id = `C${String(++this.seq).padStart(4, '0')}`;
    const channel: ConsoleChannel = {
      id,
      name,
      is_private: truthy(a.is_private),
      created: Math.floor(Date.now() / 1000),
      topic: '',
      topicSetAt: 0,
      members: [this.botUserId],
      archived: false,
      pins: [],
    };
    this.byId.set(id, channel);
    return { ok: true, channel: this.wire(channel) };
  }

  /** All or nothing, as Slack: one bad or present user fails the call, unless `force`. */
  private invite(a: Args): Result {
    const c = this.byId.get(String(a.channel ?? ''));
    if (!c) return fail('channel_not_found');
    if (c.archived) return fail('is_archived');
    const users = [...new Set(String(a.users ?? '').split(',').map((u) => u.trim()).filter(Boolean))];
    if (!users.length) return fail('no_user');
    const errors = users.flatMap((user) => {
      const error = user === this.botUserId ? 'cant_invite_self' : c.members.includes(user) ? 'already_in_channel' : undefined;
      return error ? [{ user, ok: false, error }] : [];
    });
    if (errors.length && !truthy(a.force)) return fail(errors[0].error, { errors });
    const added = users.filter((u) => !errors.some((e) => e.user === u));
    c.members.push(...added);
    return errors.length ? fail(errors[0].error, { errors }) : { ok: true, channel: this.wire(c) };
  }

  private history(a: Args): Result {
    const channel = String(a.channel ?? '');
    const inclusive = truthy(a.inclusive);
    const oldest = present(a.oldest) ? micros(String(a.oldest)) : -Infinity;
    const latest = present(a.latest) ? micros(String(a.latest)) : Infinity;
    const limit = Number(a.limit) > 0 ? Math.min(Number(a.limit), 999) : 100;
    const rows = this.messages
      .filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts))
      .filter((m) => {
        const t = micros(m.ts);
        return (inclusive ? t >= oldest : t > oldest) && (inclusive ? t <= latest : t < latest);
      })
      .reverse();
    return { ok: true, messages: rows.slice(0, limit).map((m) => this.wireMessage(m)), has_more: rows.length > limit, pin_count: this.byId.get(channel)?.pins.length ?? 0 };
  }

  /** A channel the console created, or one named in config (C0OPS) taken as it would be in Slack. */
  private lookup(id: string): ConsoleChannel {
    return (
      this.byId.get(id) ?? { id, name: id.toLowerCase(), is_private: false, created: 0, topic: '', topicSetAt: 0, members: [this.botUserId], archived: false, pins: [] }
    );
  }

  private wire(c: ConsoleChannel, withCount = false): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      name_normalized: c.name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      is_archived: c.archived,
      is_member: c.members.includes(this.botUserId),
      created: c.created,
      creator: this.botUserId,
      topic: { value: c.topic, creator: c.topic ? this.botUserId : '', last_set: c.topicSetAt },
      purpose: { value: '', creator: '', last_set: 0 },
      ...(withCount && { num_members: c.members.length }),
    };
  }

  private wireMessage(m: ConsoleMessage): Record<string, unknown> {
    const { channel, ...rest } = m;
    return { type: 'message', ...rest, ...(this.byId.get(channel)?.pins.includes(m.ts) && { pinned_to: [channel] }) };
  }
}
