import type { ApprovalRequest } from './store.ts';
import { userMention } from '../core/mention.ts';
import type { Action, Report, Status } from '../core/report.ts';
import { logT, type T } from '../i18n/index.ts';

const who = (t: T, u: string | null | undefined) => (u ? userMention(u) : t('approvals:card.someone'));

function stateLine(r: ApprovalRequest, t: T, progress?: string): { status: Status; text: string } {
  // A job (approvals_needed 0) was started, not approved: its lines say "started by" (i18next context).
  const context = r.approvals_needed === 0 ? 'job' : undefined;
  const by = r.approvers.length ? r.approvers.map((u) => who(t, u)).join(t('approvals:card.name_separator')) : who(t, r.decided_by);
  // Results are stored as text in the card channel's language (the runner wrote them with its t).
  const result = r.result?.summary;
  switch (r.state) {
    case 'pending':
      return { status: 'info', text: t('approvals:card.pending', { done: r.approvers.length, needed: r.approvals_needed }) };
    case 'approved':
      return { status: 'info', text: t('approvals:card.approved', { by, context }) };
    case 'running':
      return { status: 'info', text: progress ? t('approvals:card.running_step', { step: progress, by, context }) : t('approvals:card.running', { by, context }) };
    case 'succeeded':
      // A run that finished with something to look at (a backup whose off-host copy failed) says so.
      if (result && r.result?.status === 'warn') return { status: 'warn', text: t('approvals:card.succeeded_warn', { result, by, context }) };
      return { status: 'ok', text: result ? t('approvals:card.succeeded_result', { result, by, context }) : t('approvals:card.succeeded', { by, context }) };
    case 'failed':
      return { status: 'crit', text: result ? t('approvals:card.failed_result', { result }) : t('approvals:card.failed') };
    case 'denied':
      return { status: 'crit', text: r.reason ? t('approvals:card.denied_reason', { by: who(t, r.decided_by), reason: r.reason }) : t('approvals:card.denied', { by: who(t, r.decided_by) }) };
    case 'cancelled':
      return result ? { status: 'warn', text: result } : { status: 'info', text: t('approvals:card.cancelled') };
    case 'expired':
      return { status: 'warn', text: t('approvals:card.expired', { ttl: t.duration(new Date(r.expires_at).getTime() - new Date(r.created_at).getTime()) }) };
    case 'interrupted':
      // With a result, the runner itself reported what happened after losing its lease.
      return result ? { status: 'crit', text: t('approvals:card.interrupted_result', { result }) } : { status: 'crit', text: t('approvals:card.interrupted') };
  }
}

/**
 * The approval card: who asked, the exact plan, the risk, who must approve, and its state, in the
 * language of the channel it is posted in (`t`). Plans stored before the catalogs hold plain
 * strings; `t.text` shows those as they are.
 */
export function approvalCard(r: ApprovalRequest, t: T = logT(), progress?: string, opts: { cancellable?: boolean } = {}): Report {
  const { status, text } = stateLine(r, t, progress);
  const pending = r.state === 'pending';
  const job = r.approvals_needed === 0;
  const summary = t.text(r.plan.summary);
  const actions: Action[] = pending
    ? [
        {
          id: 'approval.approve', label: t('approvals:button.approve'), value: r.id, style: 'primary',
          confirm: { title: t('approvals:confirm.approve_title'), text: t('approvals:confirm.approve_text', { plan: summary }), confirm: t('approvals:button.approve'), deny: t('approvals:button.back') },
        },
        {
          id: 'approval.deny', label: t('approvals:button.deny'), value: r.id, style: 'danger',
          confirm: { title: t('approvals:confirm.deny_title'), text: t('approvals:confirm.deny_text'), confirm: t('approvals:button.deny'), deny: t('approvals:button.back') },
        },
        { id: 'approval.cancel', label: t('approvals:button.cancel'), value: r.id },
      ]
    : r.state === 'running' && opts.cancellable && !r.stop_requested_by
      ? [{
          id: 'approval.stop', label: t('approvals:button.stop'), value: r.id, style: 'danger' as const,
          confirm: { title: t('approvals:confirm.stop_title'), text: t('approvals:confirm.stop_text'), confirm: t('approvals:button.stop'), deny: t('approvals:button.back') },
        }]
      : [];
  const sections = [{ title: t('approvals:card.plan'), lines: [summary, ...r.plan.steps.map((s, i) => `${i + 1}. ${t.text(s)}`)] }];
  if (r.result?.lines?.length) sections.push({ title: t('approvals:card.result'), lines: r.result.lines });
  const risk = t(`approvals:risk.${r.plan.risk}`);
  return {
    title: `${r.break_glass ? `${t('approvals:card.break_glass_prefix')} ` : ''}/${r.command} ${r.args_text}`.trim() + ` (${r.id})`,
    status,
    summary: text,
    fields: [
      { label: t('approvals:card.requested_by'), value: who(t, r.requester) },
      { label: t('approvals:card.risk'), value: r.plan.riskNote ? t('approvals:card.risk_with_note', { risk, note: t.text(r.plan.riskNote) }) : risk },
      {
        label: t('approvals:card.approvers'),
        value: r.break_glass
          ? t('approvals:card.approvers_break_glass', { reason: r.break_glass })
          : job ? t('approvals:card.approvers_none')
            : r.decided_by?.startsWith('schedule:') && r.approvers.length === 0 ? t('approvals:card.approvers_by_rule', { rule: r.rule, actor: r.decided_by })
              : r.required_approver
                ? t('approvals:card.approvers_freeze', { n: r.approvals_needed - 1, roles: r.approver_roles, user: userMention(r.required_approver), id: r.incident_id })
                : t('approvals:card.approvers_rule', { n: r.approvals_needed, roles: r.approver_roles }),
      },
      { label: pending ? t('approvals:card.expires') : t('approvals:card.requested'), value: t.time(pending ? r.expires_at : r.created_at) },
    ],
    sections,
    actions,
  };
}
