import type { Config } from '../../src/config/schema.ts';
import { UserError } from '../../src/core/errors.ts';
import { msg } from '../../src/i18n/index.ts';
import { incidentsFor, type Incidents } from '../../src/incidents/index.ts';

/** The incidents of the running bot; a clear error where they are not wired (no Slack client). */
export function incidents(config: Config): Incidents {
  const i = incidentsFor(config);
  if (!i) throw new UserError(msg('incidents:errors.unavailable'));
  return i;
}
