import { STATUS_ICON, type Report, type Section } from '../core/report.ts';
import { userMention } from '../core/mention.ts';
import type { T } from '../i18n/index.ts';
import type { Item } from './items.ts';
import type { ChecklistRun, Mark } from './store.ts';

export const CHECK_ACTION = 'checklist.check';

/**
 * One checklist: automated items with ✅ ⚠️ ❌ and what they found, items for a person with a
 * button that records who checked them and when, and items not automated yet, which are never
 * shown as passed.
 */
export function checklistReport(run: ChecklistRun, items: Item[], marks: Mark[], t: T): Report {
  const done = new Map(marks.map((m) => [m.item, m]));
  const sections: Section[] = items.map((item) => {
    const name = t(`checklists:item.${item.key}`);
    const result = run.results[item.key];
    if (result) return { title: '', lines: [`${STATUS_ICON[result.status]} ${name}: ${result.summary}`] };
    if (item.person) {
      const mark = done.get(item.key);
      return {
        title: '',
        lines: [mark ? `☑ ${name} — ${t('checklists:checked_by', { user: userMention(mark.done_by), at: new Date(mark.done_at) })}` : `☐ ${name} — ${t('checklists:needs_person')}`],
        actions: [{ id: CHECK_ACTION, value: `${run.id}:${item.key}`, label: mark ? t('checklists:undo') : t('checklists:done'), style: mark ? undefined : 'primary' as const }],
      };
    }
    return { title: '', lines: [`➖ ${name}: ${t('checklists:not_automated')}`] };
  });
  const statuses = Object.values(run.results).map((r) => r.status);
  const open = items.filter((i) => i.person && !done.has(i.key)).length;
  const failed = statuses.filter((s) => s === 'crit').length;
  const warned = statuses.filter((s) => s === 'warn').length;
  return {
    title: t(`checklists:title.${run.kind}`),
    status: failed ? 'crit' : warned || open ? 'warn' : 'ok',
    summary: t('checklists:counts', { failed, warned, open, manual: items.filter((i) => !i.person && !run.results[i.key]).length }),
    sections,
    footer: t('checklists:footer', { at: new Date(run.created_at), id: run.id }),
  };
}
