// Plays Slack's side of HTTP delivery: signed slash commands and interactivity payloads,
// built field-for-field like Slack sends them (see RECIPES.md, "Signing" and "Payload shapes").
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

/**
 * POSTs a raw form body signed with `secret`. Override `timestamp` to test replay checks,
 * or `signature` to send a bad one.
 */
export async function postSigned(
  url: string,
  secret: string,
  rawBody: string,
  opts: { timestamp?: number; signature?: string } = {},
): Promise<PostResult> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      // Exactly this: Bolt answers 400 when a charset is appended.
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': opts.signature ?? sign(secret, timestamp, rawBody),
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
