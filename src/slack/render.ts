import type { KnownBlock, View } from '@slack/types';
import { plainMentions, renderMentions, type MentionKind } from '../core/mention.ts';
import { redactText } from '../core/redact.ts';
import { STATUS_ICON, type Action, type Form, type Report } from '../core/report.ts';
import { translator, type T } from '../i18n/index.ts';

// Slack's limits: 3000 characters per section text, 50 blocks per message.
const MAX_TEXT = 2900;
const MAX_BLOCKS = 50;

const SLACK_MENTION: Record<MentionKind, (id: string) => string> = {
  user: (id) => `<@${id}>`,
  channel: (id) => `<#${id}>`,
  group: (id) => `<!subteam^${id}>`,
};

/**
 * Text for a mrkdwn field (or a message's `text`): &, < and > are escaped wherever they come
 * from, so no input can make a mention, a broadcast (`<!channel>`) or a link. Only the mentions
 * the bot wrote itself (src/core/mention.ts) become live.
 */
export function escapeMrkdwn(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return renderMentions(escaped, (kind, id) => SLACK_MENTION[kind](id));
}

/** Text for a plain_text field: Slack does not parse it, but the bot's mention tokens must not show. */
export const plainText = (text: string): string => plainMentions(text);

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
    elements: actions.map((a) => a.kind === 'user' ? {
      // A picker carries no value of its own: what it acts on rides in the action_id.
      type: 'users_select' as const,
      action_id: `${a.id}:${a.value}`,
      placeholder: { type: 'plain_text' as const, text: plainText(a.label) },
    } : ({
      type: 'button',
      action_id: a.id,
      value: a.value,
      text: { type: 'plain_text', text: plainText(a.label) },
      ...(a.style ? { style: a.style } : {}),
      ...(a.url ? { url: a.url } : {}),
      ...(a.confirm
        ? {
            confirm: {
              title: { type: 'plain_text', text: plainText(a.confirm.title) },
              text: { type: 'mrkdwn', text: escapeMrkdwn(a.confirm.text) },
              confirm: { type: 'plain_text', text: plainText(a.confirm.confirm) },
              deny: { type: 'plain_text', text: plainText(a.confirm.deny) },
            },
          }
        : {}),
    })),
  } as KnownBlock;
}

/**
 * The report with its secrets removed, before it is escaped and cut into blocks: escaping would
 * split a value at its `&` (`a&lt;b`), and chunking would split a multi-line key across blocks.
 * A section's lines are redacted as one text, so a PEM block spread over lines is seen whole.
 */
function redactReport(r: Report): Report {
  const t = redactText;
  const action = (a: Action): Action => ({ ...a, label: t(a.label), ...(a.confirm ? { confirm: { ...a.confirm, title: t(a.confirm.title), text: t(a.confirm.text) } } : {}) });
  return {
    ...r,
    title: t(r.title),
    summary: r.summary === undefined ? undefined : t(r.summary),
    checks: r.checks?.map((c) => ({ ...c, name: t(c.name), text: t(c.text) })),
    fields: r.fields?.map((f) => ({ label: t(f.label), value: t(f.value) })),
    sections: r.sections?.map((s) => ({ ...s, title: t(s.title), lines: t(s.lines.join('\n')).split('\n'), actions: s.actions?.map(action) })),
    footer: r.footer === undefined ? undefined : t(r.footer),
    actions: r.actions?.map(action),
  };
}

/**
 * A Report as Block Kit plus the plain-text fallback Slack shows in notifications. `t` is the
 * reader's language, for the note the renderer itself adds when the output is cut.
 */
export function renderReport(original: Report, t: T = translator('en')): { text: string; blocks: KnownBlock[] } {
  const report = redactReport(original);
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
      const title = i === 0 && s.title ? `*${escapeMrkdwn(s.title)}*\n` : '';
      blocks.push(section(s.code ? `${title}\`\`\`${piece}\`\`\`` : `${title}${piece}`));
    });
    if (s.actions?.length) blocks.push(actionsBlock(s.actions));
  }
  if (report.actions?.length) blocks.push(actionsBlock(report.actions));
  if (report.footer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeMrkdwn(report.footer), MAX_TEXT) }] });
  if (blocks.length > MAX_BLOCKS) {
    blocks.splice(MAX_BLOCKS - 1, blocks.length, { type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`… ${t('slack:output_cut')}`) }] });
  }
  return { text: fallback(report), blocks };
}

/**
 * The message's `text`: notifications, screen readers, and clients without Block Kit. Slack
 * parses it as mrkdwn, so it is escaped exactly like the blocks.
 */
export function fallbackText(report: Report): string {
  return fallback(redactReport(report));
}

function fallback(report: Report): string {
  const lines = [`${escapeMrkdwn(report.title)}${report.summary ? `: ${escapeMrkdwn(report.summary)}` : ''}`];
  for (const c of report.checks ?? []) lines.push(`${STATUS_ICON[c.status]} ${escapeMrkdwn(c.name)}: ${escapeMrkdwn(c.text)}`);
  return cut(lines.join('\n'), 3000);
}

/** A Form as a Slack modal view. */
export function renderForm(form: Form): View {
  return {
    type: 'modal',
    callback_id: form.callback,
    private_metadata: form.meta,
    title: { type: 'plain_text', text: cut(plainText(form.title), 24) },
    submit: { type: 'plain_text', text: cut(plainText(form.submit), 24) },
    blocks: form.fields.map((f) => ({
      type: 'input' as const,
      block_id: f.id,
      optional: f.optional ?? false,
      label: { type: 'plain_text' as const, text: cut(plainText(f.label), 2000) },
      element: f.kind === 'text'
        ? { type: 'plain_text_input' as const, action_id: f.id, ...(f.initial ? { initial_value: f.initial } : {}) }
        : f.kind === 'user'
          ? { type: 'users_select' as const, action_id: f.id, ...(f.initial ? { initial_user: f.initial } : {}) }
          : {
              type: 'static_select' as const,
              action_id: f.id,
              options: (f.options ?? []).map((o) => ({ value: o.value, text: { type: 'plain_text' as const, text: cut(plainText(o.label), 75) } })),
              ...(f.initial ? { initial_option: (() => { const o = f.options?.find((x) => x.value === f.initial); return o ? { value: o.value, text: { type: 'plain_text' as const, text: cut(plainText(o.label), 75) } } : undefined; })() } : {}),
            },
    })),
  };
}
