import type { Config } from '../config/schema.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { normalizeLocale, translator, type Locale, type T } from './index.ts';

/** Asks Slack for a user's locale (users.info with include_locale); undefined when it has none. */
export type LocaleLookup = (user: string) => Promise<string | undefined>;

const HOUR = 3_600_000;
/** A failed lookup is retried after this long, not on every command. */
const RETRY_AFTER = 5 * 60_000;
/** The reply is not held up for Slack: a slow lookup answers in the default language this time. */
const LOOKUP_WAIT = 1500;

/**
 * Who reads which language. A reply only the caller sees follows the caller's Slack locale; a
 * channel post follows `channels.<name>.locale`, else config `locale`. The console can override both.
 */
export class Readers {
  private readonly users = new Map<string, { locale: Locale | undefined; until: number; pending?: Promise<Locale | undefined> }>();
  private readonly byChannel: Map<string, Locale>;
  /** The console's `:lang`: every reader sees this locale. */
  override: Locale | undefined;

  constructor(private readonly config: Config, private readonly lookup?: LocaleLookup, private readonly log?: Logger, private readonly now: () => number = Date.now) {
    this.byChannel = new Map(Object.values(config.channels).filter((c) => c.locale).map((c) => [c.id, c.locale!]));
  }

  get timeZone(): string {
    return this.config.timezone;
  }

  /** The config's own language: logs aside, for texts with no particular reader. */
  get default(): T {
    return translator(this.override ?? this.config.locale, this.config.timezone);
  }

  forChannel(channel: string | undefined): T {
    const locale = this.override ?? (channel ? this.byChannel.get(channel) : undefined) ?? this.config.locale;
    return translator(locale, this.config.timezone);
  }

  /**
   * The caller's language. An actor that is not a Slack user (`schedule:daily-health`) has its
   * replies posted where it acts, so it reads that channel's language when one is given.
   */
  async forUser(user: string, channel?: string): Promise<T> {
    if (this.override) return translator(this.override, this.config.timezone);
    if (!/^[UW][A-Z0-9]+$/.test(user)) return this.forChannel(channel);
    return translator((await this.userLocale(user)) ?? this.config.locale, this.config.timezone);
  }

  private async userLocale(user: string): Promise<Locale | undefined> {
    if (!this.lookup) return undefined;
    const now = this.now();
    const hit = this.users.get(user);
    if (hit && (hit.until > now || hit.pending)) return hit.pending ? race(hit.pending, hit.locale) : hit.locale;
    const pending = this.lookup(user).then(
      (raw) => {
        const locale = normalizeLocale(raw);
        this.users.set(user, { locale, until: this.now() + HOUR });
        return locale;
      },
      (err: unknown) => {
        this.log?.warn({ user, err: errorMessage(err) }, 'user locale lookup failed; using the default language');
        this.users.set(user, { locale: hit?.locale, until: this.now() + RETRY_AFTER });
        return hit?.locale;
      },
    );
    this.users.set(user, { locale: hit?.locale, until: 0, pending });
    return race(pending, hit?.locale);
  }
}

/** The lookup's answer if it comes soon, else what is known now (the answer is still cached for next time). */
function race(pending: Promise<Locale | undefined>, known: Locale | undefined): Promise<Locale | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise<Locale | undefined>((resolve) => {
    timer = setTimeout(() => resolve(known), LOOKUP_WAIT);
    timer.unref();
  });
  return Promise.race([pending, wait]).finally(() => clearTimeout(timer));
}
