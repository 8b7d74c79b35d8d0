// Plays Slack's side of HTTP delivery: signed slash commands, interactivity payloads and Events
// API callbacks, built field-for-field like Slack sends them (see RECIPES.md, "Signing" and
// "Payload shapes").
import { createHmac, randomBytes } from 'node:crypto';

export interface PostResult {
  status: number;
  body: string;
  /** Wall time until the whole response body arrived. */
  ms: number;
}

/** Slack's request signature: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<raw body>")). */
export function sign(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface PostOptions {
  timestamp?: number;
  signature?: string;
  /** Slack posts events as JSON; commands and interactivity as a form (the default). */
  contentType?: string;
  /** More headers, e.g. X-Slack-Retry-Num on a redelivered event. */
  headers?: Record<string, string>;
}

/**
 * POSTs a raw body signed with `secret`. Override `timestamp` to test replay checks,
 * or `signature` to send a bad one.
 */
export async function postSigned(url: string, secret: string, rawBody: string, opts: PostOptions = {}): Promise<PostResult> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      // Exactly this for forms: Bolt answers 400 when a charset is appended.
      'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': opts.signature ?? sign(secret, timestamp, rawBody),
      ...opts.headers,
    },
    body: rawBody,
  });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
}

export interface CommandFields {
  command: string;
  text?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  response_url?: string;
  trigger_id?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  token?: string;
  [field: string]: string | undefined;
}

const TEAM_ID = 'T0TEST';
const TEAM_DOMAIN = 'opsbot-test';
const APP_ID = 'A0OPSBOT';
const BOT_USER_ID = 'U0BOT';
// The legacy verification token Slack still sends; Bolt ignores it when signing is used.
const VERIFICATION_TOKEN = 'xVerificationTokenTest';

/** A trigger_id shaped like Slack's ("<digits>.<digits>.<hex>"). */
function triggerId(): string {
  return `${Date.now()}.${Math.floor(Math.random() * 1e12)}.${randomBytes(16).toString('hex')}`;
}

/** The form body Slack sends for a slash command, in Slack's field order. */
export function commandBody(fields: CommandFields): string {
  const userId = fields.user_id ?? 'U0ONCALL';
  const channelId = fields.channel_id ?? 'C0OPS';
  const defaults: Record<string, string> = {
    token: VERIFICATION_TOKEN,
    team_id: TEAM_ID,
    team_domain: TEAM_DOMAIN,
    channel_id: channelId,
    channel_name: channelId.toLowerCase(),
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: fields.command,
    text: '',
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: `https://hooks.slack.com/commands/${TEAM_ID}/${Date.now()}/${randomBytes(12).toString('hex')}`,
    trigger_id: triggerId(),
  };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...defaults, ...fields })) {
    if (value !== undefined) form.append(key, value);
  }
  return form.toString();
}

/** Interactivity arrives as a single form field, `payload`, holding JSON. */
export function actionBody(payload: object): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BlockActionOptions {
  user: string;
  channel: string;
  messageTs: string;
  actionId: string;
  value?: string;
  blockId?: string;
  responseUrl?: string;
  triggerId?: string;
  /** Extra fields of the clicked message (text, blocks, …). */
  message?: Record<string, unknown>;
}

/** A `block_actions` payload for a button click on a bot message. */
export function blockActionPayload(opts: BlockActionOptions) {
  const actionTs = (Date.now() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: { id: opts.user, username: opts.user.toLowerCase(), name: opts.user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: opts.messageTs, channel_id: opts.channel, is_ephemeral: false },
    trigger_id: opts.triggerId ?? triggerId(),
    team: { id: TEAM_ID, domain: TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: opts.channel, name: opts.channel.toLowerCase() },
    message: {
      type: 'message',
      subtype: 'bot_message',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      app_id: APP_ID,
      text: '',
      ...opts.message,
      ts: opts.messageTs,
    },
    state: { values: {} },
    response_url:
      opts.responseUrl ?? `https://hooks.slack.com/actions/${TEAM_ID}/${Date.now()}/${randomBytes(12).toString('hex')}`,
    actions: [
      {
        action_id: opts.actionId,
        block_id: opts.blockId ?? 'actions',
        // Slack leaves `value` out when the button has none.
        ...(opts.value !== undefined && { value: opts.value }),
        type: 'button',
        action_ts: actionTs,
        text: { type: 'plain_text', text: opts.actionId, emoji: true },
      },
    ],
  };
}

/** Posts a signed slash command to `${baseUrl}/slack/events`. */
export async function slashCommand(baseUrl: string, secret: string, fields: CommandFields): Promise<PostResult> {
  return postSigned(`${baseUrl.replace(/\/+$/, '')}/slack/events`, secret, commandBody(fields));
}

/** Slack's form of a ts for a moment: seconds with six decimals. */
const slackTs = (ms = Date.now()) => (ms / 1000).toFixed(6);

export interface EventCallbackOptions {
  eventId?: string;
  /** Epoch seconds; defaults to now. */
  eventTime?: number;
}

/**
 * The Events API envelope Slack posts for a subscribed event. Bolt reads the team and the bot
 * from `authorizations`, and routes on `event.type`.
 */
export function eventCallbackPayload(event: Record<string, any>, opts: EventCallbackOptions = {}) {
  return {
    token: VERIFICATION_TOKEN,
    team_id: TEAM_ID,
    context_team_id: TEAM_ID,
    context_enterprise_id: null,
    api_app_id: APP_ID,
    event,
    type: 'event_callback',
    event_id: opts.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: opts.eventTime ?? Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: TEAM_ID, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ et: event.type, tid: TEAM_ID, aid: APP_ID })).toString('base64url')}`,
  };
}

export interface ReactionOptions {
  /** Who reacted. */
  user: string;
  channel: string;
  /** The ts of the message reacted to. */
  ts: string;
  /** The emoji's name without colons; defaults to pushpin (📌). */
  reaction?: string;
  /** The author of the message reacted to; Slack leaves it out when unknown. */
  itemUser?: string;
  /** When the reaction was added (epoch ms); defaults to now. */
  at?: number;
}

/** A `reaction_added` event on a message, as Slack delivers it inside the envelope. */
export function reactionAddedEvent(opts: ReactionOptions) {
  return {
    type: 'reaction_added',
    user: opts.user,
    reaction: opts.reaction ?? 'pushpin',
    ...(opts.itemUser && { item_user: opts.itemUser }),
    item: { type: 'message', channel: opts.channel, ts: opts.ts },
    event_ts: slackTs(opts.at),
  };
}

/**
 * Posts a signed event_callback to `${baseUrl}/slack/events` as JSON, the way Slack delivers
 * events over HTTP. `retryNum` sends the headers of a redelivery.
 */
export async function postEvent(
  baseUrl: string,
  secret: string,
  event: Record<string, any>,
  opts: EventCallbackOptions & { retryNum?: number; retryReason?: string; timestamp?: number } = {},
): Promise<PostResult> {
  const headers: Record<string, string> = {};
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = opts.retryReason ?? 'http_timeout';
  }
  const body = JSON.stringify(eventCallbackPayload(event, opts));
  return postSigned(`${baseUrl.replace(/\/+$/, '')}/slack/events`, secret, body, { contentType: 'application/json', headers, timestamp: opts.timestamp });
}

/** A test's answer to one input block: text, an option value, a user/channel id, or several. */
export type ViewInputValue = string | string[] | null;

interface InputElement {
  type: string;
  action_id: string;
  options?: Array<{ value: string }>;
  option_groups?: Array<{ options: Array<{ value: string }> }>;
  [field: string]: any;
}

/** The option of a select (or radio group) whose value is `value`, as Slack echoes it back. */
function optionOf(element: InputElement, value: string): Record<string, any> {
  const options = [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g) => g.options)];
  // External selects load their options from the app at run time; Slack echoes the chosen one.
  if (element.type.includes('external')) return { text: { type: 'plain_text', text: value, emoji: true }, value };
  const option = options.find((o) => o.value === value);
  if (!option) throw new Error(`view_submission: ${element.action_id} has no option with value ${JSON.stringify(value)}`);
  return structuredClone(option);
}

/**
 * One input's entry in `view.state.values`, in the shape Slack sends for its element type.
 * Without an answer, the element's initial value is sent, as Slack does for an untouched input.
 */
export function inputState(element: InputElement, answer: ViewInputValue | undefined): Record<string, any> {
  const { type } = element;
  const many = (v: ViewInputValue | undefined): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
  const one = (v: ViewInputValue | undefined): string | null => (v === undefined || v === null ? null : Array.isArray(v) ? (v[0] ?? null) : v);
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons': {
      const v = one(answer);
      return { type, selected_option: v === null ? (element.initial_option ?? null) : optionOf(element, v) };
    }
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: answer === undefined ? (element.initial_options ?? []) : many(answer).map((v) => optionOf(element, v)) };
    case 'users_select':
      return { type, selected_user: answer === undefined ? (element.initial_user ?? null) : one(answer) };
    case 'multi_users_select':
      return { type, selected_users: answer === undefined ? (element.initial_users ?? []) : many(answer) };
    case 'conversations_select':
      return { type, selected_conversation: answer === undefined ? (element.initial_conversation ?? null) : one(answer) };
    case 'multi_conversations_select':
      return { type, selected_conversations: answer === undefined ? (element.initial_conversations ?? []) : many(answer) };
    case 'channels_select':
      return { type, selected_channel: answer === undefined ? (element.initial_channel ?? null) : one(answer) };
    case 'multi_channels_select':
      return { type, selected_channels: answer === undefined ? (element.initial_channels ?? []) : many(answer) };
    case 'datepicker':
      return { type, selected_date: answer === undefined ? (element.initial_date ?? null) : one(answer) };
    case 'timepicker':
      return { type, selected_time: answer === undefined ? (element.initial_time ?? null) : one(answer) };
    default:
      // plain_text_input, number_input and the other text inputs carry a `value`.
      return { type, value: answer === undefined ? (element.initial_value ?? '') : (one(answer) ?? '') };
  }
}

/**
 * A `view_submission` payload for a modal the app opened (the `view` it passed to views.open),
 * answering its input blocks by block_id.
 */
export function viewSubmissionPayload(view: Record<string, any>, user: string, values: Record<string, ViewInputValue> = {}) {
  const inputs = ((view.blocks ?? []) as Array<{ type: string; block_id: string; element: InputElement }>).filter((b) => b.type === 'input');
  const state = { values: Object.fromEntries(inputs.map((b) => [b.block_id, { [b.element.action_id]: inputState(b.element, values[b.block_id]) }])) };
  return {
    type: 'view_submission',
    team: { id: TEAM_ID, domain: TEAM_DOMAIN },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: triggerId(),
    view: {
      id: 'V0TEST',
      team_id: TEAM_ID,
      type: 'modal',
      callback_id: '',
      external_id: '',
      root_view_id: view.id ?? 'V0TEST',
      previous_view_id: null,
      app_id: APP_ID,
      app_installed_team_id: TEAM_ID,
      bot_id: 'B0BOT',
      clear_on_close: false,
      notify_on_close: false,
      ...view,
      state,
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      private_metadata: view.private_metadata ?? '',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
