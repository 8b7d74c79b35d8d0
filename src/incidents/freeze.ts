import type { Incidents } from './service.ts';
import type { Incident } from './store.ts';

/**
 * The change freeze: the open incident (the most severe, then the oldest) whose severity freezes
 * changes and whose channel is not `channel`. A destructive command typed there needs the
 * incident commander's vote or break-glass; inside the incident's channel the normal rules apply.
 * Read from the store each time, not from a cache: another replica may have declared it a
 * moment ago, and destructive commands are rare enough for the query not to matter.
 */
export async function freezeFor(incidents: Incidents, channel: string): Promise<Incident | undefined> {
  const severities = incidents.settings.severities;
  const open = await incidents.store.open();
  return open.find((i) => severities[i.severity]?.freeze && i.channel !== channel);
}
