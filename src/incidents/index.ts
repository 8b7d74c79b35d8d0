/**
 * Incident coordination (manual §8): what commands/incident/ uses, and how incidents hook into
 * the rest of the bot. The dispatcher asks it about the change freeze and reports every command;
 * the approval engine reports requests and executions; a schedule sends reminders and archives.
 */
import type { Config } from '../config/schema.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import type { ApprovalEngine } from '../approvals/engine.ts';
import type { Scheduler } from '../schedule/index.ts';
import { freezeFor } from './freeze.ts';
import { recordApproval, recordCommand } from './hooks.ts';
import { Incidents, type IncidentDeps } from './service.ts';
import { sweepIncidents } from './sweep.ts';

export { Incidents } from './service.ts';

const byConfig = new WeakMap<Config, Incidents>();

/** The incidents of the bot running with this config; undefined in setups without them wired. */
export function incidentsFor(config: Config): Incidents | undefined {
  return byConfig.get(config);
}

export function createIncidents(deps: IncidentDeps & { dispatcher: Dispatcher; approvals: ApprovalEngine; scheduler?: Scheduler }): Incidents {
  const incidents = new Incidents(deps);
  byConfig.set(deps.config, incidents);
  deps.dispatcher.freeze = async (channel) => {
    const inc = await freezeFor(incidents, channel);
    return inc && inc.channel ? { incidentId: inc.id, title: inc.title, severity: inc.severity, channel: inc.channel, commander: inc.roles.commander } : undefined;
  };
  deps.dispatcher.onOutcome((o) => recordCommand(incidents, o));
  deps.approvals.onEvent((event, req) => recordApproval(incidents, event, req));
  // i18n-exempt: what /schedule list shows it runs, a name like a command line
  deps.scheduler?.schedule('incidents', deps.config.incidents.check_every, () => sweepIncidents(incidents), { label: '/incident reminders, archiving', catchUp: 0 });
  return incidents;
}
