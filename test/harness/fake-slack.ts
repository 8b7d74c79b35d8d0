// A fake Slack Web API that speaks Slack's wire format (see RECIPES.md, "Bolt offline"):
// every answer is HTTP 200 JSON `{ ok, ... }`, errors are `{ ok: false, error }`, and only
// rate limiting uses another status (429 with Retry-After). Tests point @slack/web-api's
// `slackApiUrl` at `fake.url` and then inspect `fake.calls` and `fake.messages()`.
// Channels, pins and history live in fake-slack-channels.ts.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChannels, tsMicros, type AddChannelOptions, type FakeSlackChannel, type UserMessageOptions } from './fake-slack-channels.ts';

export type { AddChannelOptions, FakeSlackChannel, UserMessageOptions } from './fake-slack-channels.ts';

export interface FakeSlackCall {
  /** Web API method ('chat.postMessage'), or 'response_url' / 'upload' for the sinks. */
  method: string;
  args: Record<string, any>;
  at: number;
  status: number;
  /** The JSON we answered, handy for finding a posted message's ts. */
  result: Record<string, any>;
  /** The id in the sink path (/response/<id>, /upload/<id>), if any. */
  target?: string;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: any[];
  attachments?: any[];
  thread_ts?: string;
  [key: string]: any;
}

export interface FakeSlackUpload {
  id: string;
  filename: string;
  length: number;
  /** The file's content (the file part when the client sent multipart, else the raw body). */
  bytes?: Buffer;
  /** The request body exactly as received by the upload sink. */
  raw?: Buffer;
  completed: boolean;
  title?: string;
  channel_id?: string;
  initial_comment?: string;
  thread_ts?: string;
}

export interface FakeSlackUser {
  name?: string;
  tz?: string;
  is_admin?: boolean;
  /** What users.info returns with include_locale (Slack's form: "zh-CN", "en-US"). */
  locale?: string;
}

export interface FakeSlackOptions {
  /** When set, calls must carry `Authorization: Bearer <token>` (or a `token` field). */
  token?: string;
  /** Usergroup id (S…) → member user ids. */
  usergroups?: Record<string, string[]>;
  users?: Record<string, FakeSlackUser>;
  /** Socket Mode: the app-level token (xapp-…) and the WebSocket URL apps.connections.open hands out. */
  appToken?: string;
  socketModeUrl?: () => string;
}

export interface FakeSlack {
  /** Web API base ending in /api/ — what WebClient's `slackApiUrl` wants. */
  url: string;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  port: number;
  calls: FakeSlackCall[];
  /**
   * Every stored message, oldest first: the bot's, the ones a test added, and the system
   * messages Slack itself writes (subtype channel_join on create and invite, channel_topic,
   * channel_archive), which conversations.history returns too.
   */
  messages(channel?: string): FakeSlackMessage[];
  /** Channels made by conversations.create or addChannel (not ids merely posted to). */
  channels(): FakeSlackChannel[];
  /** A channel by id or name (with or without #), including ids only posted to. */
  channel(idOrName: string): FakeSlackChannel | undefined;
  /** A channel that exists before the test (to test name_taken, not_in_channel, is_archived). */
  addChannel(name: string, opts?: AddChannelOptions): FakeSlackChannel;
  /** Stores a person's message as Slack would (rich_text blocks, client_msg_id) and returns its ts. */
  addUserMessage(channel: string, user: string, text: string, opts?: UserMessageOptions): string;
  /** Records `user`'s reaction on a stored message (shown in its `reactions`); returns the message. */
  addReaction(channel: string, ts: string, user: string, reaction: string): FakeSlackMessage;
  uploads(): FakeSlackUpload[];
  /** A URL of the response_url sink; POSTs to it are recorded as method 'response_url'. */
  responseUrl(id?: string): string;
  /** The next `times` calls to `method` answer 429 with Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
  waitFor(predicate: (call: FakeSlackCall) => boolean, timeoutMs?: number): Promise<FakeSlackCall>;
  reset(): void;
  stop(): Promise<void>;
}

const TEAM_ID = 'T0TEST';
const TEAM_DOMAIN = 'opsbot-test';
const BOT_USER_ID = 'U0BOT';
const BOT_ID = 'B0BOT';
const APP_ID = 'A0OPSBOT';

// WebClient sends objects as JSON strings inside the form; these are the ones we decode.
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'files', 'metadata', 'user_auth_blocks']);

type Result = Record<string, any>;
const fail = (error: string): Result => ({ ok: false, error });
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';
/** Form fields arrive as strings: "true"/"1" are true, as Slack reads them. */
const truthy = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;

/** Seconds east of UTC for an IANA zone, as Slack's tz_offset reports it. */
function tzOffset(tz: string): number {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })
      .formatToParts(new Date())
      .find((p) => p.type === 'timeZoneName')?.value;
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(name ?? '');
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
  } catch {
    return 0;
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Decodes a JSON, url-encoded or multipart body; query-string fields are merged in too. */
async function parseArgs(req: http.IncomingMessage, raw: Buffer): Promise<Record<string, any>> {
  const args: Record<string, any> = {};
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  for (const [k, v] of query) args[k] = v;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (raw.length === 0) return args;
  if (type.startsWith('application/json')) {
    Object.assign(args, JSON.parse(raw.toString('utf8')));
  } else if (type.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
    for (const [k, v] of form) args[k] = typeof v === 'string' ? v : Buffer.from(await v.arrayBuffer());
  } else {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) args[k] = v;
  }
  for (const key of JSON_FIELDS) {
    if (typeof args[key] !== 'string') continue;
    try {
      args[key] = JSON.parse(args[key]);
    } catch {
      // leave it as sent; the test can see what was wrong
    }
  }
  return args;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const calls: FakeSlackCall[] = [];
  const messages: FakeSlackMessage[] = [];
  const uploads = new Map<string, FakeSlackUpload>();
  const rateLimits = new Map<string, { retryAfter: number; times: number }>();
  const waiters = new Set<{ predicate: (c: FakeSlackCall) => boolean; settle: (c?: FakeSlackCall, e?: unknown) => void }>();
  let baseUrl = '';
  // Message timestamps in microseconds of wall time, as Slack's are (an incident timeline stamps
  // entries with a message's ts), and strictly increasing so that each one is unique.
  let clock = 0;
  let seq = 0;
  const fmtTs = (t: number) => `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`;
  const nextTs = () => fmtTs((clock = Math.max(clock + 1, Date.now() * 1000)));
  const nextId = (prefix: string) => `${prefix}${String(++seq).padStart(8, '0')}`;
  /** A ts at a chosen time (a message "written earlier"); unique in its channel, and later ones stay later. */
  const tsAt = (ms: number, channel: string) => {
    let t = Math.round(ms) * 1000;
    const taken = new Set(messages.filter((m) => m.channel === channel).map((m) => tsMicros(m.ts)));
    while (taken.has(t)) t++;
    clock = Math.max(clock, t);
    return fmtTs(t);
  };
  const channels = createChannels({
    messages,
    nextTs,
    tsAt,
    nextId,
    team: { id: TEAM_ID, domain: TEAM_DOMAIN },
    bot: { userId: BOT_USER_ID, botId: BOT_ID, appId: APP_ID },
  });

  const findMessage = (channel: string, ts: string) => messages.find((m) => m.channel === channel && m.ts === ts);
  // The wire shape of a message has no channel field; our store keeps one for filtering.
  const wire = ({ channel: _channel, ...message }: FakeSlackMessage) => structuredClone(message);

  function record(call: FakeSlackCall): void {
    calls.push(call);
    for (const w of waiters) {
      try {
        if (w.predicate(call)) w.settle(call);
      } catch (err) {
        w.settle(undefined, err);
      }
    }
  }

  function view(args: Record<string, any>, type?: string): Result {
    const v = args.view && typeof args.view === 'object' ? args.view : {};
    return {
      id: args.view_id ?? nextId('V'),
      team_id: TEAM_ID,
      type: type ?? v.type ?? 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      state: { values: {} },
      hash: `${Date.now()}.${nextId('h')}`,
      app_id: APP_ID,
      bot_id: BOT_ID,
      ...v,
    };
  }

  const methods: Record<string, (args: Record<string, any>) => Result> = {
    'apps.connections.open': () => (opts.socketModeUrl ? { ok: true, url: opts.socketModeUrl() } : fail('not_allowed_token_type')),

    'auth.test': () => ({
      ok: true,
      url: `https://${TEAM_DOMAIN}.slack.com/`,
      team: 'T',
      team_id: TEAM_ID,
      user: 'opsbot',
      user_id: BOT_USER_ID,
      bot_id: BOT_ID,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (a) => {
      if (!present(a.channel)) return fail('channel_not_found');
      // A user id (U…) as channel is a DM; it is recorded under that id.
      const target = channels.postTarget(String(a.channel));
      if ('error' in target) return fail(target.error);
      if (!present(a.text) && !a.blocks && !a.attachments) return fail('no_text');
      const stored: FakeSlackMessage = {
        channel: target.id,
        type: 'message',
        subtype: 'bot_message',
        user: BOT_USER_ID,
        bot_id: BOT_ID,
        app_id: APP_ID,
        text: a.text ?? '',
        ts: nextTs(),
        ...(a.blocks && { blocks: a.blocks }),
        ...(a.attachments && { attachments: a.attachments }),
        ...(present(a.thread_ts) && { thread_ts: String(a.thread_ts) }),
        ...(a.metadata && { metadata: a.metadata }),
      };
      messages.push(stored);
      return { ok: true, channel: stored.channel, ts: stored.ts, message: wire(stored) };
    },

    'chat.update': (a) => {
      if (!present(a.channel)) return fail('channel_not_found');
      const stored = findMessage(String(a.channel), String(a.ts ?? ''));
      if (!stored) return fail('message_not_found');
      const inactive = channels.updateError(stored.channel);
      if (inactive) return fail(inactive);
      // Like Slack, fields left out of an update keep their previous value.
      if (a.text !== undefined) stored.text = a.text;
      if (a.blocks !== undefined) stored.blocks = a.blocks;
      if (a.attachments !== undefined) stored.attachments = a.attachments;
      stored.edited = { user: BOT_USER_ID, ts: nextTs() };
      return { ok: true, channel: stored.channel, ts: stored.ts, text: stored.text, message: wire(stored) };
    },

    'chat.delete': (a) => {
      const index = messages.findIndex((m) => m.channel === String(a.channel) && m.ts === String(a.ts));
      if (index < 0) return fail('message_not_found');
      messages.splice(index, 1);
      return { ok: true, channel: a.channel, ts: a.ts };
    },

    'chat.postEphemeral': (a) => {
      if (!present(a.channel)) return fail('channel_not_found');
      const target = channels.postTarget(String(a.channel));
      if ('error' in target) return fail(target.error);
      if (!present(a.user)) return fail('user_not_in_channel');
      if (!present(a.text) && !a.blocks && !a.attachments) return fail('no_text');
      return { ok: true, message_ts: nextTs() };
    },

    'views.open': (a) => (present(a.trigger_id) && a.view ? { ok: true, view: view(a) } : fail('invalid_arguments')),
    'views.push': (a) => (present(a.trigger_id) && a.view ? { ok: true, view: view(a) } : fail('invalid_arguments')),
    'views.update': (a) =>
      (present(a.view_id) || present(a.external_id)) && a.view ? { ok: true, view: view(a) } : fail('invalid_arguments'),
    'views.publish': (a) => (present(a.user_id) && a.view ? { ok: true, view: view(a, 'home') } : fail('invalid_arguments')),

    'users.info': (a) => {
      if (!present(a.user)) return fail('user_not_found');
      const id = String(a.user);
      const u = opts.users?.[id] ?? {};
      const name = u.name ?? id.toLowerCase();
      const tz = u.tz ?? 'UTC';
      return {
        ok: true,
        user: {
          id,
          team_id: TEAM_ID,
          name,
          real_name: name,
          deleted: false,
          tz,
          tz_label: tz,
          tz_offset: tzOffset(tz),
          is_admin: u.is_admin ?? false,
          // Slack sends the locale only when asked for it.
          ...(truthy(a.include_locale) ? { locale: u.locale ?? 'en-US' } : {}),
          is_owner: false,
          is_bot: false,
          profile: { real_name: name, display_name: name, team: TEAM_ID },
        },
      };
    },

    'usergroups.users.list': (a) => {
      if (!present(a.usergroup)) return fail('invalid_arguments');
      const users = opts.usergroups?.[String(a.usergroup)];
      return users ? { ok: true, users: [...users] } : fail('no_such_subteam');
    },

    'files.getUploadURLExternal': (a) => {
      if (!present(a.filename) || !present(a.length)) return fail('invalid_arguments');
      const id = nextId('F');
      uploads.set(id, { id, filename: String(a.filename), length: Number(a.length), completed: false });
      return { ok: true, upload_url: `${baseUrl}/upload/${id}`, file_id: id };
    },

    'files.completeUploadExternal': (a) => {
      if (!Array.isArray(a.files) || a.files.length === 0) return fail('invalid_arguments');
      const done: Result[] = [];
      for (const f of a.files as Array<{ id: string; title?: string }>) {
        const upload = uploads.get(f.id);
        if (!upload) return fail('file_not_found');
        Object.assign(upload, {
          completed: true,
          title: f.title ?? upload.filename,
          channel_id: a.channel_id,
          initial_comment: a.initial_comment,
          thread_ts: a.thread_ts,
        });
        done.push({ id: upload.id, title: upload.title, name: upload.filename, size: upload.bytes?.length ?? upload.length });
      }
      return { ok: true, files: done };
    },

    ...channels.methods,
  };

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const json = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(json)),
      ...headers,
    });
    res.end(json);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const at = Date.now();

    const upload = /^\/upload\/([^/]+)$/.exec(path);
    if (upload) {
      const id = decodeURIComponent(upload[1]);
      const args = (req.headers['content-type'] ?? '').startsWith('multipart/') ? await parseArgs(req, raw) : {};
      const file = Object.values(args).find((v) => Buffer.isBuffer(v)) as Buffer | undefined;
      const entry = uploads.get(id) ?? { id, filename: id, length: raw.length, completed: false };
      Object.assign(entry, { raw, bytes: file ?? raw });
      uploads.set(id, entry);
      const result = { ok: true };
      record({ method: 'upload', args: { file_id: id, length: entry.bytes?.length }, at, status: 200, result, target: id });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${entry.bytes?.length}`);
      return;
    }

    const response = /^\/response\/([^/]+)$/.exec(path);
    const api = /^\/api\/([\w.]+)$/.exec(path);
    const method = response ? 'response_url' : api ? api[1] : path;
    let args: Record<string, any>;
    try {
      args = await parseArgs(req, raw);
    } catch {
      const result = fail('invalid_json');
      record({ method, args: { raw: raw.toString('utf8') }, at, status: 200, result });
      return send(res, 200, result);
    }
    const target = response ? decodeURIComponent(response[1]) : undefined;

    const limit = rateLimits.get(method);
    if (limit && limit.times > 0) {
      limit.times--;
      const result = fail('ratelimited');
      record({ method, args, at, status: 429, result, target });
      return send(res, 429, result, { 'retry-after': String(limit.retryAfter) });
    }

    let result: Result;
    const denied = api && opts.token ? authError(req, args) : undefined;
    if (response) {
      result = { ok: true };
    } else if (!api || !methods[method]) {
      result = fail('unknown_method');
    } else if (denied) {
      result = fail(denied);
    } else {
      result = methods[method](args);
    }
    record({ method, args, at, status: 200, result, target });
    send(res, 200, result);
  }

  function authError(req: http.IncomingMessage, args: Record<string, any>): string | undefined {
    const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = header ?? args.token;
    if (!present(token)) return 'not_authed';
    // apps.connections.open is the one method that takes the app-level token.
    const expected = req.url?.includes('apps.connections.open') ? opts.appToken : opts.token;
    return token === expected ? undefined : 'invalid_auth';
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      // Slack never answers 500; surface our own bug as an API error instead.
      if (!res.headersSent) send(res, 200, { ok: false, error: 'fatal_error', detail: String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `${baseUrl}/api/`,
    baseUrl,
    port,
    calls,
    messages: (channel) => messages.filter((m) => channel === undefined || m.channel === channel),
    channels: () => channels.channels(),
    channel: (idOrName) => channels.channel(idOrName),
    addChannel: (name, o) => channels.addChannel(name, o),
    addUserMessage: (channel, user, text, o) => channels.addUserMessage(channel, user, text, o),
    addReaction: (channel, ts, user, reaction) => channels.addReaction(channel, ts, user, reaction) as FakeSlackMessage,
    uploads: () => [...uploads.values()],
    responseUrl: (id) => `${baseUrl}/response/${encodeURIComponent(id ?? nextId('R'))}`,
    rateLimit(method, retryAfterSeconds, times = 1) {
      rateLimits.set(method, { retryAfter: retryAfterSeconds, times });
    },
    waitFor(predicate, timeoutMs = 5000) {
      const seen = calls.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise<FakeSlackCall>((resolve, reject) => {
        const waiter = {
          predicate,
          settle(call?: FakeSlackCall, err?: unknown) {
            clearTimeout(timer);
            waiters.delete(waiter);
            if (call) resolve(call);
            else reject(err);
          },
        };
        const timer = setTimeout(() => {
          const seenMethods = calls.map((c) =>
            c.status !== 200 ? `${c.method}(${c.status})` : c.result.ok === false ? `${c.method}(${c.result.error})` : c.method,
          );
          waiter.settle(
            undefined,
            new Error(`fake Slack: no matching call within ${timeoutMs} ms; recorded: ${seenMethods.join(', ') || '(none)'}`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      // Cleared in place so that references to fake.calls stay live.
      calls.length = 0;
      messages.length = 0;
      uploads.clear();
      rateLimits.clear();
      channels.reset();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
