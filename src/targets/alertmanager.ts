import { UnavailableError, UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

/** Alertmanager API v2 shapes, as far as the bot reads them. */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
}

export interface AmAlertGroup {
  labels: Record<string, string>;
  receiver: { name: string };
  alerts: AmAlert[];
}

export interface AmMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface AmSilence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' };
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export interface NewSilence {
  matchers: AmMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** What commands and the card buttons may ask of Alertmanager. */
export interface AlertmanagerExecutor {
  /** The base URL, for messages. */
  readonly url: string;
  alertGroups(): Promise<AmAlertGroup[]>;
  silences(): Promise<AmSilence[]>;
  createSilence(s: NewSilence): Promise<string>;
  expireSilence(id: string): Promise<void>;
}

/** Alertmanager's HTTP API v2 over fetch, each call bounded by `timeoutMs`. */
export class AlertmanagerTarget implements AlertmanagerExecutor {
  readonly url: string;

  constructor(url: string, private readonly timeoutMs: number) {
    this.url = url.replace(/\/+$/, '');
  }

  alertGroups(): Promise<AmAlertGroup[]> {
    // Silenced and inhibited alerts are left out: /alerts shows what still needs someone.
    return this.call('GET', '/api/v2/alerts/groups?silenced=false&inhibited=false&active=true') as Promise<AmAlertGroup[]>;
  }

  silences(): Promise<AmSilence[]> {
    return this.call('GET', '/api/v2/silences') as Promise<AmSilence[]>;
  }

  async createSilence(s: NewSilence): Promise<string> {
    const res = (await this.call('POST', '/api/v2/silences', s)) as { silenceID: string };
    return res.silenceID;
  }

  async expireSilence(id: string): Promise<void> {
    await this.call('DELETE', `/api/v2/silence/${encodeURIComponent(id)}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new UnavailableError(msg('alerts:errors.timeout', { url: this.url, ms: this.timeoutMs }));
      // fetch hides the socket's reason (ECONNREFUSED, ENOTFOUND) in its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new UnavailableError(msg('alerts:errors.unreachable', { url: this.url, error: cause?.code ?? cause?.message ?? (err as Error).message }));
    }
    const text = await res.text();
    if (!res.ok) {
      // Alertmanager explains a refused request in its body (a bad matcher, an unknown silence).
      throw new UserError(msg('alerts:errors.api', { url: this.url, status: res.status, error: text.trim().slice(0, 300) }));
    }
    return text ? JSON.parse(text) : undefined;
  }
}
