import { errorMessage } from '../core/errors.ts';
import { userMention } from '../core/mention.ts';
import { incidentRef } from './card.ts';
import type { Incidents } from './service.ts';

// The card's elapsed time is redrawn this often (a minute would be an update per minute per incident).
const CARD_REFRESH_MS = 5 * 60_000;

/**
 * What runs every `incidents.check_every`: reminders for incidents without a recent update,
 * archiving of resolved incidents' channels, and the cards' elapsed time. Each is claimed by one
 * conditional UPDATE, so with several replicas each reminder and archive happens once.
 */
export async function sweepIncidents(incidents: Incidents): Promise<string> {
  const { store, deps, settings } = incidents;
  const every = Object.fromEntries(Object.entries(settings.severities).map(([sev, s]) => [sev, s.update_every]));
  let reminded = 0;
  for (const inc of await store.claimReminders(every)) {
    const t = incidents.tFor(inc);
    const after = every[inc.severity];
    const who = [inc.roles.commander, inc.roles.comms].filter((u): u is string => !!u);
    try {
      await deps.slack.post(inc.channel!, {
        title: t('incidents:reminder.title', { ref: incidentRef(inc) }),
        status: 'warn',
        summary: t('incidents:reminder.summary', { users: [...new Set(who)].map(userMention).join(' '), after }),
      }, t);
      await store.addEvent({ incidentId: inc.id, kind: 'reminder', actor: null, detail: { after } });
      reminded++;
    } catch (err) {
      deps.log.warn({ id: inc.id, err: errorMessage(err) }, 'incident reminder failed');
    }
  }
  for (const inc of await store.claimArchives(settings.archive_after)) {
    try {
      await deps.slack.archive(inc.channel!);
    } catch (err) {
      // Released, so that the next sweep tries again (Slack may have been down or rate limiting).
      await store.releaseArchive(inc.id);
      deps.log.warn({ id: inc.id, err: errorMessage(err) }, 'archiving the incident channel failed');
    }
  }
  for (const inc of await store.claimCardRefresh(CARD_REFRESH_MS)) await incidents.refreshCard(inc);
  return reminded ? 'reminded' : 'ok';
}
