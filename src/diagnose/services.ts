/** Service names as /logs and /diagnose take them: a clear answer for a name that is not configured. */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';

const HOW_TO_ADD = 'Services are defined under `services:` in the config file, e.g. `services: { backend: { docker: local, container: mitong-backend-1 } }` (see docs/config.md).';

/**
 * The configured service `name`, when it is one of `eligible` (the services this command can
 * use). Anything else, no name included, is a UserError naming the choices, the closest one, and
 * how to add one, also when no service is configured at all (the built-in defaults have none).
 */
export function findService(
  config: Config, name: string | undefined, eligible: string[], usage: string[], why?: string,
): { name: string; svc: Config['services'][string] } {
  if (name !== undefined && eligible.includes(name)) return { name, svc: config.services[name] };
  if (name !== undefined && Object.hasOwn(config.services, name) && why) throw new UserError(`${name} ${why}`, { usage });
  const what = name === undefined ? 'Missing service' : `Unknown service "${name}"`;
  if (!eligible.length) {
    throw new UserError(`${what}: no services are configured${Object.keys(config.services).length ? ' that this command can use' : ''}. ${HOW_TO_ADD}`, { usage });
  }
  const guess = name === undefined ? undefined : didYouMean(name, eligible);
  throw new UserError(`${what}. Choose one of: ${eligible.join(', ')}.${guess ? ` Did you mean ${guess}?` : ''} ${HOW_TO_ADD}`, { usage });
}
