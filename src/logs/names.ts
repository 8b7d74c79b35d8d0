/**
 * Which files beside a live log are its rotated copies: `app.log.1`, `app.log.1.gz` (logrotate's
 * and Python's RotatingFileHandler numbering) and `app.log-20240101(.gz)` (logrotate's dateext).
 * Nothing else is ever treated as rotated, so cleanup cannot reach the live log or a stranger.
 */
const SUFFIX = /^(?:\.(\d{1,4})|-(\d{8}))(\.gz)?$/;

export interface RotatedName {
  /** 1 for app.log.1; null for a dated name. */
  number: number | null;
  date: string | null;
  compressed: boolean;
}

export function parseRotated(base: string, name: string): RotatedName | null {
  if (!name.startsWith(base) || name === base) return null;
  const m = SUFFIX.exec(name.slice(base.length));
  if (!m) return null;
  return { number: m[1] ? Number(m[1]) : null, date: m[2] ?? null, compressed: !!m[3] };
}

export const isRotatedOf = (base: string, name: string) => parseRotated(base, name) !== null;
