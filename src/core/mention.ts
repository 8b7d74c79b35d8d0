import { createHmac, randomBytes } from 'node:crypto';

/**
 * Mentions the bot writes itself. Every other text (log lines, container output, error messages,
 * arguments echoed back) is escaped by the renderers, so a `<!channel>` or `<@U…>` in it reaches
 * Slack as text. The bot's own mentions must survive that escaping, and must not be forgeable by
 * that text: they are written as a token of private-use characters that carries the id and a
 * MAC of it under a key chosen when the process starts. Renderers turn a token whose MAC holds
 * into a live mention (Slack) or readable text (console); anything else that looks like one is
 * shown as plain text. A token that leaks (say, into a text nobody rendered) lets no one mention
 * any other id: its MAC is good for its own id only.
 *
 * Tokens are for output only: never store one (another process has another key and would show
 * the id as plain text).
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const KEY = randomBytes(32);

/** 64 bits of HMAC-SHA256(kind + id), one private-use character (U+E010..U+E01F) per 4 bits. */
function mac(kind: string, id: string): string {
  const digest = createHmac('sha256', KEY).update(`${kind}${id}`).digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += String.fromCharCode(0xe010 + (digest[i] >> 4), 0xe010 + (digest[i] & 15));
  return out;
}

export type MentionKind = 'user' | 'channel' | 'group';
const KIND_CHAR: Record<MentionKind, string> = { user: '@', channel: '#', group: '^' };
const CHAR_KIND: Record<string, MentionKind> = { '@': 'user', '#': 'channel', '^': 'group' };

/** Slack ids: users U…/W…, channels C…/G…/D…, user groups S…. */
const ID = /^[A-Z0-9]{2,40}$/;

function token(kind: MentionKind, id: string): string {
  // Anything that is not an id is not a mention: it stays text, and is escaped like text.
  if (!ID.test(id)) return id;
  return `${OPEN}${mac(KIND_CHAR[kind], id)}${KIND_CHAR[kind]}${id}${CLOSE}`;
}

/** A live `<@U…>` in Slack, `@U…` in the console. */
export const userMention = (id: string): string => token('user', id);
/** A live `<#C…>` in Slack, `#C…` in the console. */
export const channelMention = (id: string): string => token('channel', id);
/** A live `<!subteam^S…>` in Slack, `@S…` in the console. */
export const groupMention = (id: string): string => token('group', id);

const TOKEN = /\uE000([\uE010-\uE01F]{16})([@#^])([A-Z0-9]{2,40})\uE001/g;
/** The characters tokens are made of; stripped from whatever text remains. */
const SENTINELS = /[\uE000-\uE01F]/g;
const SENTINEL = /[\uE000-\uE01F]/;

/** The plain form of a mention: `@U1`, `#C1`, `@S1`. */
export function plainMention(kind: MentionKind, id: string): string {
  return `${kind === 'channel' ? '#' : '@'}${id}`;
}

/**
 * Replaces the bot's own mention tokens in `text` with `live(kind, id)`, and anything that only
 * looks like one (a forged or foreign token) with its plain form. Stray sentinel characters are
 * removed. Callers escape `text` first: tokens contain no character that escaping changes.
 */
export function renderMentions(text: string, live: (kind: MentionKind, id: string) => string): string {
  if (!SENTINEL.test(text)) return text;
  return text
    .replace(TOKEN, (_, tag: string, kind: string, id: string) => (tag === mac(kind, id) ? live(CHAR_KIND[kind], id) : plainMention(CHAR_KIND[kind], id)))
    .replace(SENTINELS, '');
}

/** `text` with every mention token in its plain form: for logs, files and plain-text fields. */
export function plainMentions(text: string): string {
  return renderMentions(text, plainMention);
}
