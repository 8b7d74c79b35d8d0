import { errorMessage } from '../core/errors.ts';
import { plainMentions } from '../core/mention.ts';
import { redactText } from '../core/redact.ts';
import type { Incidents } from './service.ts';

// Results are kept short on the timeline: the full output is in the channel.
const RESULT_CHARS = 300;
const short = (text: string | undefined) => {
  if (!text) return undefined;
  const one = redactText(plainMentions(text)).replace(/\s+/g, ' ').trim();
  return one.length > RESULT_CHARS ? `${one.slice(0, RESULT_CHARS - 1)}…` : one;
};

/**
 * Every opsbot command typed in an incident's channel lands on its timeline with its outcome
 * (/incident itself records its own, more telling, entries). Never throws: it runs after the reply.
 */
export async function recordCommand(incidents: Incidents, e: { command: string; text: string; user: string; channel: string; outcome: string; summary?: string }): Promise<void> {
  if (e.command === 'incident') return;
  try {
    const inc = await incidents.incidentIn(e.channel);
    if (!inc || inc.status === 'resolved') return;
    const line = `/${e.command} ${e.text}`.trim();
    await incidents.store.addEvent({ incidentId: inc.id, kind: 'command', actor: e.user, detail: { line: redactText(line), outcome: e.outcome, result: short(e.summary) } });
  } catch (err) {
    incidents.deps.log.warn({ channel: e.channel, err: errorMessage(err) }, 'could not record the command on the incident timeline');
  }
}

export type ApprovalStage = 'requested' | 'started' | 'finished';

/** Approval requests typed in an incident's channel, and their executions, land on its timeline. */
export async function recordApproval(incidents: Incidents, stage: ApprovalStage, r: { id: string; command: string; args_text: string; requester: string; channel: string; state: string; decided_by?: string | null; result?: { summary?: string } | null }): Promise<void> {
  try {
    const inc = await incidents.incidentIn(r.channel);
    if (!inc) return;
    const actor = stage === 'requested' ? r.requester : stage === 'started' ? (r.decided_by ?? r.requester) : null;
    await incidents.store.addEvent({
      incidentId: inc.id, kind: 'approval', actor,
      detail: { stage, id: r.id, line: redactText(`/${r.command} ${r.args_text}`.trim()), outcome: r.state, result: stage === 'finished' ? short(r.result?.summary) : undefined },
    });
  } catch (err) {
    incidents.deps.log.warn({ id: r.id, err: errorMessage(err) }, 'could not record the approval on the incident timeline');
  }
}

/** A 📌 on a message in an incident's channel: the message joins the timeline at its own time. */
export async function recordPin(incidents: Incidents, p: { channel: string; ts: string; by: string }): Promise<boolean> {
  const inc = await incidents.incidentIn(p.channel);
  if (!inc) return false;
  const message = await incidents.deps.slack.message(p.channel, p.ts);
  if (!message) return false;
  const at = new Date(Math.round(Number(p.ts) * 1000));
  return incidents.store.addEvent({
    incidentId: inc.id, kind: 'pin', actor: message.user ?? p.by, at, sourceTs: p.ts,
    text: redactText(message.text), detail: { pinned_by: p.by },
  });
}
