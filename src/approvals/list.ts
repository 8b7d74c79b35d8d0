import type { ApprovalRequest } from './store.ts';
import { userMention } from '../core/mention.ts';
import type { Report } from '../core/report.ts';

/** Pending requests as one report: what /approvals and the App Home tab show. */
export function approvalList(requests: ApprovalRequest[], user: string): Report {
  if (!requests.length) return { title: 'Approvals', status: 'info', summary: 'Nothing is waiting for you.' };
  return {
    title: 'Approvals',
    status: 'info',
    summary: `${requests.length} pending request${requests.length === 1 ? '' : 's'} you can act on:`,
    sections: requests.map((r) => {
      const mine = r.requester === user;
      return {
        title: `${r.id}: /${r.command} ${r.args_text}`.trim(),
        lines: [
          r.plan.summary,
          `requested by ${userMention(r.requester)}, ${r.approvers.length} of ${r.approvals_needed} approvals, expires ${new Date(r.expires_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        ],
        actions: mine
          ? [{ id: 'approval.cancel', label: `Cancel ${r.id}`, value: r.id }]
          : [
              { id: 'approval.approve', label: `Approve ${r.id}`, value: r.id, style: 'primary' as const, confirm: { title: 'Approve?', text: `This will ${r.plan.summary}.`, confirm: 'Approve', deny: 'Back' } },
              { id: 'approval.deny', label: `Deny ${r.id}`, value: r.id, style: 'danger' as const },
            ],
      };
    }),
  };
}
