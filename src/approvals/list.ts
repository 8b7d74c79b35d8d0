import type { ApprovalRequest } from './store.ts';
import { userMention } from '../core/mention.ts';
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';

/** Pending requests as one report, in the reader's language: what /approvals and the App Home tab show. */
export function approvalList(requests: ApprovalRequest[], user: string, t: T): Report {
  const title = t('approvals:list.title');
  if (!requests.length) return { title, status: 'info', summary: t('approvals:list.empty') };
  return {
    title,
    status: 'info',
    summary: t('approvals:list.summary', { count: requests.length }),
    sections: requests.map((r) => {
      const mine = r.requester === user;
      const summary = t.text(r.plan.summary);
      return {
        title: `${r.id}: /${r.command} ${r.args_text}`.trim(),
        lines: [
          summary,
          t('approvals:list.line', { requester: userMention(r.requester), done: r.approvers.length, needed: r.approvals_needed, at: new Date(r.expires_at) }),
        ],
        actions: mine
          ? [{ id: 'approval.cancel', label: t('approvals:button.cancel_id', { id: r.id }), value: r.id }]
          : [
              {
                id: 'approval.approve', label: t('approvals:button.approve_id', { id: r.id }), value: r.id, style: 'primary' as const,
                confirm: { title: t('approvals:confirm.approve_title'), text: t('approvals:confirm.approve_text', { plan: summary }), confirm: t('approvals:button.approve'), deny: t('approvals:button.back') },
              },
              { id: 'approval.deny', label: t('approvals:button.deny_id', { id: r.id }), value: r.id, style: 'danger' as const },
            ],
      };
    }),
  };
}
