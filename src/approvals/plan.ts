import { createHash } from 'node:crypto';
import type { Msg } from '../i18n/index.ts';

/**
 * What a destructive command will do, computed against the live system before anyone approves.
 * The approval card shows it, and exactly this is what runs.
 */
export interface Plan {
  /** One line, e.g. "restart container mitong-backend-1 (image …, up 3 d, 0 restarts) on docker:local". */
  /** Texts are Msgs where they are ours, so that each card and reply shows them in its reader's language. */
  summary: Msg | string;
  steps: Array<Msg | string>;
  risk: 'low' | 'medium' | 'high';
  riskNote?: Msg | string;
  /**
   * The approval rule's key when this plan needs another than its command's: a riskier variant
   * of the same command ("cache.clear-protected"). The command declares it in defaultRules.
   */
  rule?: string;
  /** Machine data the command's execute() needs (ids, names); part of the hash. */
  target: Record<string, string | number | boolean | null>;
}

/** JSON with keys sorted at every level, so equal plans always hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function hashPlan(plan: Plan): string {
  return createHash('sha256').update(canonical(plan)).digest('hex');
}
