/** Results are plain data; src/slack/render.ts and the console turn them into messages. */
export type Status = 'ok' | 'warn' | 'crit' | 'info';

export interface CheckLine {
  name: string;
  status: Status;
  /** The figure, e.g. "12 ms, v16.4, 5/100 connections". */
  text: string;
}

export interface Section {
  title: string;
  lines: string[];
  /** Shown as preformatted text (tables, log lines). */
  code?: boolean;
  /** Buttons that belong to this section (e.g. one request in a list). */
  actions?: Action[];
}

/** A button. `id` is the action_id the click comes back with, `value` what it acts on. */
export interface Action {
  id: string;
  label: string;
  value: string;
  /** A user picker instead of a button (the label is its placeholder); the pick comes back with `value`. */
  kind?: 'button' | 'user';
  style?: 'primary' | 'danger';
  /** A link button: Slack opens this address (and still sends the click, which needs only an ack). */
  url?: string;
  /** Asked before the click counts (Slack shows a confirm dialog). */
  confirm?: { title: string; text: string; confirm: string; deny: string };
}

export interface Report {
  title: string;
  status: Status;
  summary?: string;
  checks?: CheckLine[];
  sections?: Section[];
  fields?: Array<{ label: string; value: string }>;
  footer?: string;
  actions?: Action[];
  /** A form to fill in (a Slack modal), opened instead of posting when the command was typed by a person. */
  form?: Form;
  /**
   * Output too long for a message, or a picture: uploaded as a file in the message's thread. Text is
   * redacted on its way out like every message; a binary file (a chart) must be made from redacted text.
   */
  attachment?: { filename: string; title: string; content: string | Uint8Array };
}

export interface FormField {
  id: string;
  label: string;
  kind: 'text' | 'select' | 'user';
  options?: Array<{ value: string; label: string }>;
  initial?: string;
  optional?: boolean;
}

/** A form: `callback` names the handler its submission goes to, `meta` what it needs to act (e.g. the channel). */
export interface Form {
  callback: string;
  title: string;
  submit: string;
  meta: string;
  fields: FormField[];
}

const ORDER: Record<Status, number> = { info: 0, ok: 1, warn: 2, crit: 3 };

/** The overall status is the worst of its parts. */
export function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((acc, s) => (ORDER[s] > ORDER[acc] ? s : acc), 'ok');
}

export const STATUS_ICON: Record<Status, string> = { ok: '✅', warn: '⚠️', crit: '❌', info: 'ℹ️' };

/** Compares a figure with warn/crit thresholds (higher is worse). */
export function grade(value: number, level: { warn: number; crit: number }): Status {
  if (value >= level.crit) return 'crit';
  if (value >= level.warn) return 'warn';
  return 'ok';
}
