import type { T } from '../i18n/index.ts';
import type { ApprovalRequest } from './store.ts';

/**
 * What a replica records for an action it gives up at shutdown, once the grace has run out: the
 * steps that had started (the last one may or may not have finished), in the card's language.
 */
export function shutdownResult(steps: string[], graceMs: number, t: T): NonNullable<ApprovalRequest['result']> {
  if (!steps.length) return { status: 'crit', summary: t('lifecycle:shutdown.before_first', { grace: graceMs }), lines: [] };
  return {
    status: 'crit',
    summary: t('lifecycle:shutdown.during_step', { step: steps[steps.length - 1], grace: graceMs }),
    lines: [t('lifecycle:shutdown.steps_started'), ...steps.map((s, i) => `${i + 1}. ${s}`)],
  };
}
