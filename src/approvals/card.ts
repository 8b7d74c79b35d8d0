import { formatDuration } from '../config/duration.ts';
import type { ApprovalRequest } from './store.ts';
import { userMention } from '../core/mention.ts';
import type { Action, Report, Status } from '../core/report.ts';

const who = (u: string | null | undefined) => (u ? userMention(u) : 'someone');

function stateLine(r: ApprovalRequest, progress?: string): { status: Status; text: string } {
  const by = r.approvers.length ? r.approvers.map(who).join(', ') : who(r.decided_by);
  switch (r.state) {
    case 'pending':
      return { status: 'info', text: `⏳ Waiting for approval: ${r.approvers.length} of ${r.approvals_needed}` };
    case 'approved':
      return { status: 'info', text: `👍 Approved by ${by}` };
    case 'running':
      return { status: 'info', text: `🔄 Running${progress ? `: ${progress}` : '…'} (approved by ${by})` };
    case 'succeeded':
      return { status: 'ok', text: `✅ Done${r.result?.summary ? `: ${r.result.summary}` : ''} (approved by ${by})` };
    case 'failed':
      return { status: 'crit', text: `❌ Failed${r.result?.summary ? `: ${r.result.summary}` : ''}` };
    case 'denied':
      return { status: 'crit', text: `⛔ Denied by ${who(r.decided_by)}${r.reason ? `: ${r.reason}` : ''}` };
    case 'cancelled':
      return { status: 'info', text: `🚫 Cancelled by the requester` };
    case 'expired':
      return { status: 'warn', text: `⌛ Expired: nobody approved it within ${formatDuration(new Date(r.expires_at).getTime() - new Date(r.created_at).getTime())}` };
    case 'interrupted':
      // With a result, the runner itself reported what happened after losing its lease.
      return r.result?.summary
        ? { status: 'crit', text: `⚠️ Interrupted: ${r.result.summary}. Check the target before trying again.` }
        : { status: 'crit', text: '⚠️ Interrupted: the bot stopped while this was running. It was not re-run; check the target before trying again.' };
  }
}

const utc = (d: Date) => `${new Date(d).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The approval card: who asked, the exact plan, the risk, who must approve, and its state. */
export function approvalCard(r: ApprovalRequest, progress?: string): Report {
  const { status, text } = stateLine(r, progress);
  const pending = r.state === 'pending';
  const actions: Action[] = pending
    ? [
        { id: 'approval.approve', label: 'Approve', value: r.id, style: 'primary', confirm: { title: 'Approve?', text: `This will ${r.plan.summary}.`, confirm: 'Approve', deny: 'Back' } },
        { id: 'approval.deny', label: 'Deny', value: r.id, style: 'danger', confirm: { title: 'Deny?', text: 'You will be asked for a reason.', confirm: 'Deny', deny: 'Back' } },
        { id: 'approval.cancel', label: 'Cancel (requester)', value: r.id },
      ]
    : [];
  const sections = [{ title: 'Plan', lines: [r.plan.summary, ...r.plan.steps.map((s, i) => `${i + 1}. ${s}`)] }];
  if (r.result?.lines?.length) sections.push({ title: 'Result', lines: r.result.lines });
  return {
    title: `${r.break_glass ? '🚨 BREAK-GLASS ' : ''}/${r.command} ${r.args_text}`.trim() + ` (${r.id})`,
    status,
    summary: text,
    fields: [
      { label: 'Requested by', value: who(r.requester) },
      { label: 'Risk', value: `${r.plan.risk}${r.plan.riskNote ? `: ${r.plan.riskNote}` : ''}` },
      { label: 'Approvers', value: r.break_glass ? `none (break-glass: ${r.break_glass})` : `${r.approvals_needed} distinct, role ${r.approver_roles.join(' or ')}` },
      { label: pending ? 'Expires' : 'Requested', value: pending ? utc(r.expires_at) : utc(r.created_at) },
    ],
    sections,
    actions,
  };
}
