import { UserError } from '../../src/core/errors.ts';
import { msg } from '../../src/i18n/index.ts';

/**
 * Slack escapes &, < and > in a command's text; people's words are stored as they typed them
 * (the renderer escapes them again on the way out).
 */
export const unescapeSlack = (text: string): string => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** A user as Slack sends a mention (`<@U123|ana>`, `<@U123>`) or as a bare id (the console). */
export function userId(given: string): string {
  const m = /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(given.trim()) ?? /^@?([UW][A-Z0-9]{2,})$/.exec(given.trim());
  if (!m) throw new UserError(msg('incidents:errors.not_a_user', { given }));
  return m[1];
}

/** Free text whose last word may be an owner mention: `/incident followup add alerting <@U1>`. */
export function textAndOwner(raw: string): { text: string; owner?: string } {
  const m = /^([\s\S]*?)\s*(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)\s*$/.exec(raw);
  if (m && m[1].trim()) return { text: m[1].trim(), owner: userId(m[2]) };
  return { text: raw.trim() };
}
