import type { T } from '../i18n/index.ts';

/**
 * One line of a command's usage: its syntax, which stays English like the command names and
 * flags, and optionally a note (a catalog key) that is translated.
 */
export type UsageLine = string | { syntax: string; note: string };

/** Usage lines as the reader sees them: "/health redis   (detail for one kind)". */
export function formatUsage(lines: readonly UsageLine[], t: T): string[] {
  return lines.map((l) => (typeof l === 'string' ? l : `${l.syntax}   (${t(l.note)})`));
}
