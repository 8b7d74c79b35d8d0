/** Counting what is in a log tail: per level, and which error lines repeat most (/logs … errors). */

const LEVELS = ['CRITICAL', 'FATAL', 'ERROR', 'WARNING', 'WARN', 'INFO', 'DEBUG'] as const;
const LEVEL_RE = new RegExp(`\\b(${LEVELS.join('|')})\\b`);

/** The line without what changes between repeats of one error: timestamps, numbers, hex ids, quoted values. */
export function errorSignature(line: string): string {
  return line
    .replace(/^\s*\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s*/, '')
    .replace(/0x[0-9a-f]+|\b[0-9a-f]{8,}\b/gi, '#')
    .replace(/\d+(?:\.\d+)?/g, 'N')
    .replace(/'[^']*'|"[^"]*"/g, "'…'")
    .trim();
}

export interface LogStats {
  total: number;
  levels: Array<[string, number]>;
  topErrors: Array<{ count: number; example: string }>;
}

export function logStats(lines: string[], top = 5): LogStats {
  const levels = new Map<string, number>();
  const errors = new Map<string, { count: number; example: string }>();
  for (const line of lines) {
    const level = LEVEL_RE.exec(line)?.[1];
    if (!level) continue;
    const name = level === 'WARN' ? 'WARNING' : level === 'FATAL' ? 'CRITICAL' : level;
    levels.set(name, (levels.get(name) ?? 0) + 1);
    if (name === 'ERROR' || name === 'CRITICAL') {
      const sig = errorSignature(line);
      const e = errors.get(sig) ?? { count: 0, example: line.trim() };
      e.count++;
      e.example = line.trim(); // the newest occurrence
      errors.set(sig, e);
    }
  }
  return {
    total: lines.length,
    levels: [...levels.entries()].sort((a, b) => LEVELS.indexOf(a[0] as never) - LEVELS.indexOf(b[0] as never)),
    topErrors: [...errors.values()].sort((a, b) => b.count - a.count).slice(0, top),
  };
}
