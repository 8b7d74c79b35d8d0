import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { errorMessage } from '../core/errors.ts';
import type { Lifecycle } from '../core/lifecycle.ts';
import type { Logger } from '../core/log.ts';
import type { Readers } from '../i18n/readers.ts';

interface Incoming {
  command?: string;
  type?: string;
  user_id?: string;
  user?: { id?: string };
}

type Respond = (message: Record<string, unknown>) => Promise<unknown>;

/**
 * While the process drains, slash commands and button clicks are acknowledged and turned away
 * with a private "send it again" instead of starting work this process may not live to finish.
 * Behind a load balancer that already sees /readyz failing, the retry lands on the other
 * replica. Everything else (modal submissions, App Home) is cheap and passes through.
 */
export function refuseWhileDraining(lifecycle: Lifecycle, readers: Readers, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    if (!lifecycle.draining) return args.next();
    const body = args.body as Incoming;
    const isCommand = typeof body.command === 'string';
    if (!isCommand && body.type !== 'block_actions') return args.next();
    const { ack, respond } = args as unknown as { ack?: () => Promise<void>; respond?: Respond };
    await ack?.();
    const user = (isCommand ? body.user_id : body.user?.id) ?? '';
    try {
      const t = user ? await readers.forUser(user) : readers.default;
      const text = isCommand ? t('lifecycle:draining.command', { command: body.command }) : t('lifecycle:draining.click');
      await respond?.({ response_type: 'ephemeral', replace_original: false, text });
    } catch (err) {
      log.warn({ err: errorMessage(err), user }, 'could not tell the caller that this replica is shutting down');
    }
    log.info({ user, command: body.command, type: body.type }, 'turned away while draining');
  };
}
