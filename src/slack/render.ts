import type { KnownBlock } from '@slack/types';
import { STATUS_ICON, type Action, type Report } from '../core/report.ts';

// Slack's limits: 3000 characters per section text, 50 blocks per message.
const MAX_TEXT = 2900;
const MAX_BLOCKS = 50;

/** Escapes &, < and > for mrkdwn, keeping the channel/user mentions the bot itself writes. */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/<(?![#@!][A-Z0-9]+>)/g, '&lt;')
    .replace(/(?<!<[#@!][A-Z0-9]+)>/g, '&gt;');
}

/** Splits lines into chunks that each fit one section block. */
function chunk(lines: string[], limit = MAX_TEXT): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of lines) {
    const line = raw.length > limit ? `${raw.slice(0, limit - 1)}…` : raw;
    if (cur && cur.length + line.length + 1 > limit) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${line}` : line;
  }
  if (cur) out.push(cur);
  return out;
}

const cut = (text: string, limit: number) => (text.length > limit ? `${text.slice(0, limit - 1)}…` : text);
const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: cut(text, MAX_TEXT) } });

function actionsBlock(actions: Action[]): KnownBlock {
  return {
    type: 'actions',
    elements: actions.map((a) => ({
      type: 'button',
      action_id: a.id,
      value: a.value,
      text: { type: 'plain_text', text: a.label },
      ...(a.style ? { style: a.style } : {}),
      ...(a.confirm
        ? {
            confirm: {
              title: { type: 'plain_text', text: a.confirm.title },
              text: { type: 'mrkdwn', text: escapeMrkdwn(a.confirm.text) },
              confirm: { type: 'plain_text', text: a.confirm.confirm },
              deny: { type: 'plain_text', text: a.confirm.deny },
            },
          }
        : {}),
    })),
  };
}

/** A Report as Block Kit plus the plain-text fallback Slack shows in notifications. */
export function renderReport(report: Report): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [];
  const heading = `*${escapeMrkdwn(report.title)}*${report.summary ? `  ${escapeMrkdwn(report.summary)}` : ''}`;
  blocks.push(section(heading));
  if (report.checks?.length) {
    const lines = report.checks.map((c) => `${STATUS_ICON[c.status]} *${escapeMrkdwn(c.name)}*: ${escapeMrkdwn(c.text)}`);
    for (const text of chunk(lines)) blocks.push(section(text));
  }
  if (report.fields?.length) {
    for (let i = 0; i < report.fields.length; i += 10) {
      blocks.push({
        type: 'section',
        // Slack caps each field at 2000 characters.
        fields: report.fields.slice(i, i + 10).map((f) => ({ type: 'mrkdwn', text: cut(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, 2000) })),
      });
    }
  }
  for (const s of report.sections ?? []) {
    const body = s.lines.map(escapeMrkdwn);
    const pieces = chunk(body, MAX_TEXT - 10 - s.title.length);
    pieces.forEach((piece, i) => {
      const title = i === 0 ? `*${escapeMrkdwn(s.title)}*\n` : '';
      blocks.push(section(s.code ? `${title}\`\`\`${piece}\`\`\`` : `${title}${piece}`));
    });
    if (s.actions?.length) blocks.push(actionsBlock(s.actions));
  }
  if (report.actions?.length) blocks.push(actionsBlock(report.actions));
  if (report.footer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeMrkdwn(report.footer), MAX_TEXT) }] });
  if (blocks.length > MAX_BLOCKS) {
    blocks.splice(MAX_BLOCKS - 1, blocks.length, { type: 'context', elements: [{ type: 'mrkdwn', text: '… output cut to fit one message' }] });
  }
  return { text: fallbackText(report), blocks };
}

/** Plain text of a report: notifications, screen readers, and clients without Block Kit. */
export function fallbackText(report: Report): string {
  const lines = [`${report.title}${report.summary ? `: ${report.summary}` : ''}`];
  for (const c of report.checks ?? []) lines.push(`${STATUS_ICON[c.status]} ${c.name}: ${c.text}`);
  return lines.join('\n').slice(0, 3000);
}
