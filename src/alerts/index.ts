/**
 * Alertmanager notifications in Slack (manual §6.2): one card per alert group, kept in the state
 * store so that any replica updates the same card, and what the card's buttons and /alerts act on.
 * Notifications enter through the dispatcher (Dispatcher.event: audited and counted); the buttons
 * run commands through it as the person who clicked.
 */
import type { Config } from '../config/schema.ts';
import type { Dispatcher } from '../core/dispatch.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Report } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { Readers } from '../i18n/readers.ts';
import type { Store } from '../store/types.ts';
import { alertCard } from './card.ts';
import { AlertGroupStore, type AlertGroupRow } from './store.ts';
import { channelFor, type WebhookPayload } from './webhook.ts';

/** Posts a new message in a channel's turn and says where it landed. */
export type PostCard = (channel: string, report: Report, t: T) => Promise<{ channel: string; ts: string }>;
/** Updates a posted message in place (coalesced); `final` goes out without waiting its turn. */
export type UpdateCard = (channel: string, ts: string, report: Report, opts: { final?: boolean }) => Promise<void>;

export interface AlertDeps {
  store: Store;
  config: Config;
  dispatcher: Dispatcher;
  readers: Readers;
  post: PostCard;
  update: UpdateCard;
  log: Logger;
}

/** The actor notifications are audited as. */
export const ALERTMANAGER_ACTOR = 'alertmanager';

export class Alerts {
  readonly groups: AlertGroupStore;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: AlertDeps) {
    this.groups = new AlertGroupStore(deps.store);
  }

  /**
   * Takes one notification. Resolves once it is stored (Alertmanager is answered then, and sends
   * it again if this fails); the card is posted or updated after, in the channel's turn, so that a
   * burst of groups never keeps Alertmanager waiting past its timeout.
   */
  async receive(p: WebhookPayload): Promise<{ group: string; channel: string } | undefined> {
    const { config, dispatcher, log } = this.deps;
    const channel = channelFor(config.alerts, p);
    const name = p.commonLabels.alertname ?? p.groupLabels.alertname ?? '';
    if (!channel) {
      // The config check requires a default channel once a token is set; this is the belt to those braces.
      log.warn({ groupKey: p.groupKey }, 'alert group maps to no channel; set alerts.channels.default');
      return undefined;
    }
    const recorded = await this.groups.record(p, channel);
    const row = recorded.row;
    const work = dispatcher.event(
      { actor: ALERTMANAGER_ACTOR, channel: row.channel, command: 'alertmanager', args: `${p.status} ${name} (group ${row.id})`.trim() },
      async () => {
        const outcome = await this.show(recorded.action, row);
        return { outcome, detail: { group: row.id, status: p.status, alerts: p.alerts.length, ...(p.truncatedAlerts ? { truncated: p.truncatedAlerts } : {}) } };
      },
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return { group: row.id, channel: row.channel };
  }

  /** Posts, updates or leaves the card; returns the audited outcome. */
  private async show(action: 'post' | 'update' | 'wait', row: AlertGroupRow): Promise<string> {
    if (action === 'wait') return 'queued';
    if (action === 'update') {
      await this.refresh(row);
      return row.status === 'resolved' ? 'resolved' : 'updated';
    }
    const t = this.deps.readers.forChannel(row.channel);
    let posted: { ts: string };
    try {
      posted = await this.deps.post(row.channel, alertCard(row, this.deps.config, t), t);
    } catch (err) {
      // The next notification of this group (Alertmanager repeats them) posts it again.
      await this.groups.release(row.id).catch((e: unknown) => this.deps.log.error({ err: errorMessage(e), group: row.id }, 'releasing an alert card claim failed'));
      throw err;
    }
    const now = await this.groups.posted(row.id, posted.ts);
    // Notifications that came while the card was being posted (here or on another replica) are shown now.
    if (now.version !== row.version) await this.refresh(now);
    return 'posted';
  }

  /** Renders the group's card again from what the store holds now. */
  async refresh(row: AlertGroupRow): Promise<void> {
    if (!row.ts) return;
    const t = this.deps.readers.forChannel(row.channel);
    await this.deps.update(row.channel, row.ts, alertCard(row, this.deps.config, t), { final: row.status === 'resolved' });
  }

  /** Resolves once every card accepted so far is posted or updated. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

const byConfig = new WeakMap<Config, Alerts>();

/** The alerts of the bot running with this config; undefined in setups without them wired. */
export function alertsFor(config: Config): Alerts | undefined {
  return byConfig.get(config);
}

export function createAlerts(deps: AlertDeps): Alerts {
  const alerts = new Alerts(deps);
  byConfig.set(deps.config, alerts);
  return alerts;
}
