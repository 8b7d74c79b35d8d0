/**
 * A button that runs a command line, as whoever clicks it (src/slack/command-actions.ts). The
 * click goes through the dispatcher like a typed command: the clicker's roles, the channel's
 * rules, approvals and audit all apply, so a report can offer an action without granting it.
 */
import { createHash } from 'node:crypto';
import type { Action } from './report.ts';

/** action_id prefix of such buttons; the rest of the id only keeps ids apart within a message. */
export const COMMAND_ACTION = 'command.run';

export function commandButton(label: string, line: string, style?: Action['style']): Action {
  // Slack wants each action_id once per message: the line's own hash is unique and stable.
  const id = `${COMMAND_ACTION}:${createHash('sha256').update(line).digest('hex').slice(0, 10)}`;
  return { id, label, value: line, ...(style ? { style } : {}) };
}
