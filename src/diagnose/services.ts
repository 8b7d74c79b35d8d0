/** Service names as /logs and /diagnose take them: a clear answer for a name that is not configured. */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';

const HOW_TO_ADD = 'Services are defined under `services:` in the config file, e.g. `services: { backend: { docker: local, container: mitong-backend-1 } }` (see docs/config.md).';

/**
 * The configured service `name`, when it is one of `eligible` (the services this command can
 * use). Anything else is a UserError naming the choices, the closest one, and how to add one,
 * also when no service is configured at all (the built-in defaults have none).
 */
export function findService(config: Config, name: string, eligible: string[], usage: string[], why?: string): Config['services'][string] {
  if (eligible.includes(name)) return config.services[name];
  if (Object.hasOwn(config.services, name) && why) throw new UserError(`${name} ${why}`, { usage });
  if (!eligible.length) {
    throw new UserError(`Unknown service "${name}": no services are configured${Object.keys(config.services).length ? ' that this command can use' : ''}. ${HOW_TO_ADD}`, { usage });
  }
  const guess = didYouMean(name, eligible);
  throw new UserError(`Unknown service "${name}". Choose one of: ${eligible.join(', ')}.${guess ? ` Did you mean ${guess}?` : ''} ${HOW_TO_ADD}`, { usage });
}
