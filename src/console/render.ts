/** Block Kit as terminal text: the console shows what Slack would show. */
import { plainMentions } from '../core/mention.ts';

export interface Button {
  actionId: string;
  blockId?: string;
  value?: string;
  text: string;
  confirm?: string;
}

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
  elements?: Array<{ type: string; text?: string | { text: string }; action_id?: string; value?: string; confirm?: { text?: { text: string } } }>;
}

/**
 * Undoes mrkdwn escaping and drops bold markers; code fences become indented lines. Live
 * mentions and links (which only the bot can write: everything else arrives escaped) become
 * readable text, and no mention token or sentinel character is ever printed.
 */
export function mrkdwnToText(text: string): string {
  return plainMentions(text)
    .replace(/```([\s\S]*?)```/g, (_, code: string) => `${code.replace(/^\n/, '').split('\n').map((l) => `    ${l}`).join('\n')}`)
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `#${name || id}`)
    .replace(/<@([A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `@${name || id}`)
    .replace(/<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => (name ? name : `@${id}`))
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<((?:https?|mailto):[^|>]*)\|([^>]*)>/g, '$2 ($1)')
    .replace(/<((?:https?|mailto):[^|>]*)>/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Renders blocks (or the fallback text) and returns the buttons found, in order. */
export function renderBlocks(blocks: Block[] | undefined, fallback: string | undefined, firstButton: number): { text: string; buttons: Button[] } {
  if (!blocks?.length) return { text: mrkdwnToText(fallback ?? ''), buttons: [] };
  const lines: string[] = [];
  const buttons: Button[] = [];
  for (const b of blocks) {
    if (b.type === 'section' || b.type === 'header') {
      if (b.text) lines.push(mrkdwnToText(b.text.text));
      for (const f of b.fields ?? []) lines.push(mrkdwnToText(f.text).replace('\n', ': '));
    } else if (b.type === 'context') {
      lines.push(...(b.elements ?? []).map((e) => `  ${mrkdwnToText(typeof e.text === 'string' ? e.text : e.text?.text ?? '')}`));
    } else if (b.type === 'divider') {
      lines.push('—'.repeat(20));
    } else if (b.type === 'actions') {
      const labels: string[] = [];
      for (const e of b.elements ?? []) {
        if (e.type !== 'button' || !e.action_id) continue;
        const label = typeof e.text === 'string' ? e.text : e.text?.text ?? e.action_id;
        buttons.push({ actionId: e.action_id, blockId: b.block_id, value: e.value, text: plainMentions(label), confirm: e.confirm?.text?.text === undefined ? undefined : mrkdwnToText(e.confirm.text.text) });
        labels.push(`[${firstButton + buttons.length - 1}] ${plainMentions(label)}`);
      }
      if (labels.length) lines.push(labels.join('   '));
    }
  }
  return { text: lines.join('\n'), buttons };
}
