/** Service names as /logs and /diagnose take them: a clear answer for a name that is not configured. */
import type { Config } from '../config/schema.ts';
import { UserError } from '../core/errors.ts';
import { didYouMean } from '../core/suggest.ts';
import type { UsageLine } from '../core/usage.ts';
import { msg } from '../i18n/index.ts';

/**
 * The configured service `name`, when it is one of `eligible` (the services this command can
 * use). Anything else, no name included, is a UserError naming the choices, the closest one, and
 * how to add one, also when no service is configured at all (the built-in defaults have none).
 * `why` is the catalog key of what a configured but ineligible service lacks (`{{service}}`).
 */
export function findService(
  config: Config, name: string | undefined, eligible: string[], usage: readonly UsageLine[], why?: string,
): { name: string; svc: Config['services'][string] } {
  if (name !== undefined && eligible.includes(name)) return { name, svc: config.services[name] };
  if (name !== undefined && Object.hasOwn(config.services, name) && why) throw new UserError(msg(why, { service: name }), { usage });
  if (!eligible.length) {
    // Some are configured, but none this command can use (e.g. none has a log for /logs).
    const usable = Object.keys(config.services).length > 0;
    const key = name === undefined
      ? (usable ? 'diagnose:services.missing_none_usable' : 'diagnose:services.missing_none')
      : (usable ? 'diagnose:services.unknown_none_usable' : 'diagnose:services.unknown_none');
    throw new UserError(msg(key, { name }), { usage });
  }
  const choices = eligible.join(', ');
  if (name === undefined) throw new UserError(msg('diagnose:services.missing', { choices }), { usage });
  const guess = didYouMean(name, eligible);
  throw new UserError(msg(guess ? 'diagnose:services.unknown_guess' : 'diagnose:services.unknown', { name, choices, guess }), { usage });
}
