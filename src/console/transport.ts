import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { mrkdwnToText, renderBlocks, type Button } from './render.ts';
import { ConsoleChannels } from './channels.ts';
import type { T } from '../i18n/index.ts';

type Fetch = NonNullable<WebClientOptions['fetch']>;

export interface ClickTarget extends Button {
  channel: string;
  messageTs: string;
}

const RESPONSE_PREFIX = 'http://console.invalid/response/';
const UPLOAD_PREFIX = 'http://console.invalid/upload/';
/** Who the console's bot is (what auth.test answers). */
const BOT_USER_ID = 'U0OPSBOT';

/**
 * The console's side of Slack: a Receiver that hands Bolt real payloads, and a fetch that takes
 * the Web API calls and response_url posts Bolt makes and prints them. No network is involved.
 */
export class ConsoleTransport {
  readonly receiver: Receiver;
  readonly fetch: Fetch;
  private app: App | undefined;
  private ts = 0;
  private readonly buttons: ClickTarget[] = [];
  /** Upload ids to the file names they were announced with (files.getUploadURLExternal). */
  private readonly uploadNames = new Map<string, string>();
  /** A modal the app opened; the console's next line answers its first input. */
  pendingModal: { view: Record<string, any> } | undefined;
  /** What users.info reports as every user's locale when asked (include_locale), in Slack's form. */
  userLocale = 'en-US';
  /** Channels the app created (conversations.create), with their members, topic, pins and messages. */
  readonly channels = new ConsoleChannels(BOT_USER_ID);
  /** Called when the app creates a channel, e.g. to move the console there. */
  onChannelCreated: ((channel: { id: string; name: string }) => void) | undefined;

  /** `t` is the console's language, for the notes it prints around messages. */
  constructor(private readonly print: (text: string) => void, private readonly t: () => T) {
    this.receiver = {
      init: (app: App) => void (this.app = app),
      start: async () => {},
      stop: async () => {},
    };
    this.fetch = ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => this.handle(String(input instanceof Request ? input.url : input), init)) as Fetch;
  }

  /** Runs one event through Bolt's full middleware and listener chain. */
  async deliver(body: Record<string, unknown>): Promise<void> {
    if (!this.app) throw new Error('console transport not initialised');
    const event: ReceiverEvent = { body, ack: async () => {} };
    await this.app.processEvent(event);
  }

  responseUrl(id: string): string {
    return `${RESPONSE_PREFIX}${id}`;
  }

  button(n: number): ClickTarget | undefined {
    return this.buttons[n - 1];
  }

  private async handle(url: string, init?: RequestInit): Promise<Response> {
    const raw = typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : '';
    const args = parseBody(raw, String(new Headers(init?.headers).get('content-type') ?? ''));
    if (url.startsWith(UPLOAD_PREFIX)) {
      // The web client sends the file as the form's one binary part (named `body` in @slack/web-api 7+).
      const file = init?.body instanceof FormData ? [...init.body.values()].find((v) => v instanceof Blob) : init?.body;
      const bytes = file instanceof Blob ? Buffer.from(await file.arrayBuffer()) : Buffer.from(String(file ?? ''));
      // A picture (a /metrics chart) cannot be printed: it is saved where the person at the terminal can open it.
      if (bytes.subarray(0, 1024).includes(0)) {
        const id = url.slice(UPLOAD_PREFIX.length);
        const path = join(tmpdir(), `opsbot-${id}-${basename(this.uploadNames.get(id) ?? 'file')}`);
        writeFileSync(path, bytes);
        this.print(`${this.t()('console:file_saved', { bytes: bytes.length, path })}\n`);
        return new Response('OK', { status: 200 });
      }
      const text = bytes.toString('utf8');
      const lines = text.split('\n');
      this.print(`${this.t()('console:file_attached', { count: lines.length, shown: Math.min(lines.length, 30) })}\n${lines.slice(0, 30).map((l) => `    ${l}`).join('\n')}\n`);
      return new Response('OK', { status: 200 });
    }
    if (url.startsWith(RESPONSE_PREFIX)) {
      this.show(args.response_type === 'ephemeral' ? this.t()('console:only_you') : '', args, 'response');
      return json({ ok: true });
    }
    const method = url.replace(/^.*\/api\//, '').replace(/\?.*$/, '');
    const answer = this.channels.call(method, args);
    if (answer) {
      this.note(method, args, answer);
      return json(answer);
    }
    // A created channel may be named (#inc-…); Slack posts to its id.
    const known = this.channels.get(String(args.channel ?? ''));
    const channel = known?.id ?? String(args.channel ?? 'C0CONSOLE');
    switch (method) {
      case 'auth.test':
        return json({ ok: true, user_id: BOT_USER_ID, bot_id: 'B0OPSBOT', team_id: 'T0CONSOLE', user: 'opsbot' });
      case 'chat.postMessage': {
        if (known?.archived) return json({ ok: false, error: 'is_archived' });
        const ts = this.nextTs();
        this.show('', args, ts, channel);
        const thread = typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined;
        this.channels.record({ channel, ts, user: BOT_USER_ID, text: args.text as string | undefined, blocks: args.blocks, thread_ts: thread });
        return json({ ok: true, channel, ts, message: { ts, text: args.text } });
      }
      case 'chat.update':
        if (known?.archived) return json({ ok: false, error: 'is_inactive' });
        this.show(this.t()('console:updated'), args, String(args.ts), channel);
        this.channels.edit(channel, String(args.ts), args.text as string | undefined, args.blocks);
        return json({ ok: true, channel, ts: args.ts });
      case 'chat.postEphemeral':
        this.show(this.t()('console:only_you'), args, this.nextTs(), channel);
        return json({ ok: true, message_ts: this.nextTs() });
      case 'views.open': {
        const view = (typeof args.view === 'string' ? JSON.parse(args.view) : args.view) as Record<string, any>;
        this.pendingModal = { view };
        const input = (view.blocks ?? []).find((b: { type: string }) => b.type === 'input');
        this.print(`${this.t()('console:dialog', { title: view.title?.text ?? '', label: input?.label?.text ?? '' })}\n  ${this.t()('console:dialog_answer')}\n`);
        return json({ ok: true, view: { id: `V${this.nextTs()}`, ...view } });
      }
      case 'files.getUploadURLExternal': {
        const id = `F${this.nextTs().replace('.', '')}`;
        this.uploadNames.set(id, String(args.filename ?? 'file'));
        return json({ ok: true, upload_url: `${UPLOAD_PREFIX}${id}`, file_id: id });
      }
      case 'files.completeUploadExternal':
        return json({ ok: true, files: [] });
      case 'views.publish':
        return json({ ok: true });
      case 'usergroups.users.list':
        return json({ ok: true, users: [] });
      case 'users.info':
        // Slack sends the locale only when asked for it.
        return json({ ok: true, user: { id: args.user, name: args.user, ...(truthy(args.include_locale) ? { locale: this.userLocale } : {}) } });
      default:
        return json({ ok: true });
    }
  }

  private show(prefix: string, args: Record<string, unknown>, ts: string, channel = 'C0CONSOLE'): void {
    const blocks = typeof args.blocks === 'string' ? JSON.parse(args.blocks) : args.blocks;
    const { text, buttons } = renderBlocks(blocks as never, args.text as string | undefined, this.buttons.length + 1);
    for (const b of buttons) this.buttons.push({ ...b, channel, messageTs: ts });
    // Posts in a channel the app created say where they went; the console's other channels print as before.
    const where = this.channels.get(channel)?.name;
    const lead = [where && `[#${where}]`, prefix].filter(Boolean).join(' ');
    this.print(`${lead ? `${lead} ` : ''}${text}\n`);
  }

  /** One line for what changed a channel; reads (history, info, links) print nothing. */
  private note(method: string, args: Record<string, unknown>, answer: Record<string, unknown>): void {
    const t = this.t();
    const id = String(args.channel ?? '');
    const name = this.channels.get(id)?.name ?? id;
    const line = (text: string) => this.print(`${text}\n`);
    switch (method) {
      case 'conversations.create': {
        if (!answer.ok) return;
        const created = answer.channel as { id: string; name: string };
        line(t('console:channel.created', { name: created.name, id: created.id }));
        this.onChannelCreated?.({ id: created.id, name: created.name });
        return;
      }
      case 'conversations.invite': {
        // With force, Slack invites the valid users even when it reports the others' errors.
        if (!answer.ok && !truthy(args.force)) return;
        const failed = new Set(((answer.errors ?? []) as Array<{ user: string }>).map((e) => e.user));
        const invited = String(args.users ?? '').split(',').map((u) => u.trim()).filter((u) => u && !failed.has(u));
        if (invited.length) line(t('console:channel.invited', { name, users: invited.join(', ') }));
        return;
      }
      case 'conversations.setTopic':
        if (answer.ok) line(t('console:channel.topic', { name, topic: mrkdwnToText(String(args.topic ?? '')) }));
        return;
      case 'conversations.archive':
        if (answer.ok) line(t('console:channel.archived', { name }));
        return;
      case 'pins.add':
        if (answer.ok) line(t('console:channel.pinned', { name }));
        return;
    }
  }

  private nextTs(): string {
    this.ts += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.ts).padStart(6, '0')}`;
  }
}

const truthy = (v: unknown) => v === true || v === 'true' || v === '1' || v === 1;

function parseBody(raw: string, type: string): Record<string, unknown> {
  if (!raw) return {};
  if (type.includes('json') || raw.startsWith('{')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}
