/** Small layout helpers for /db reports. */
import type { T } from '../i18n/index.ts';

/** Columns a monospace font shows a text in: CJK and full-width characters take two. */
export function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(ch) ? 2 : 1;
  return w;
}

/**
 * Rows as aligned columns for a code block. Numbers (`right` columns) line up on the right; the
 * last column is never padded, so a long name runs on instead of widening every row.
 */
export function columns(rows: string[][], right: number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows.map((row) => row.map((cell, i) => {
    if (i === row.length - 1) return cell;
    const pad = ' '.repeat(widths[i] - width(cell));
    return right.includes(i) ? pad + cell : cell + pad;
  }).join('  ').trimEnd());
}

/** "3 hr ago", or "never". */
export function ago(t: T, at: Date | string | null | undefined): string {
  if (!at) return t('db:never');
  return t('db:ago', { duration: t.duration(Date.now() - new Date(at).getTime()) });
}

/** 0.123 → "12%". */
export const percent = (t: T, share: number) => `${t.number(share * 100, { maximumFractionDigits: share < 0.1 ? 1 : 0 })}%`;
