import type { WebClient } from '@slack/web-api';
import type { CardSink } from '../approvals/engine.ts';
import { redactDeep } from '../core/redact.ts';
import type { Report } from '../core/report.ts';
import { renderReport } from './render.ts';

interface CardState {
  last: number;
  latest?: Report;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  timer?: NodeJS.Timeout;
  /** Forgets the card once a whole interval has passed with nothing to send. */
  forget?: NodeJS.Timeout;
  busy: boolean;
}

/**
 * Posts cards and updates them in place. Updates to one card are coalesced to at most one per
 * `minIntervalMs`: a burst of progress collapses into its latest state, which is never dropped.
 */
export class SlackCards implements CardSink {
  private readonly cards = new Map<string, CardState>();

  constructor(private readonly client: WebClient, private readonly minIntervalMs = 1000) {}

  async post(channel: string, report: Report): Promise<{ channel: string; ts: string }> {
    const res = await this.client.chat.postMessage({ channel, ...redactDeep(renderReport(report)) });
    return { channel: res.channel ?? channel, ts: res.ts! };
  }

  /**
   * `final`: the card's last word (done, failed, interrupted) is sent without waiting out the
   * interval: one extra update at most, and the reader is not kept waiting a second for the result.
   */
  update(channel: string, ts: string, report: Report, opts: { final?: boolean } = {}): Promise<void> {
    const key = `${channel}:${ts}`;
    let card = this.cards.get(key);
    if (!card) this.cards.set(key, (card = { last: 0, waiters: [], busy: false }));
    clearTimeout(card.forget);
    card.latest = report;
    const done = new Promise<void>((resolve, reject) => card.waiters.push({ resolve, reject }));
    if (opts.final && card.timer) {
      clearTimeout(card.timer);
      card.timer = undefined;
    }
    this.schedule(key, channel, ts, card, opts.final);
    return done;
  }

  /** Sends every pending update now (shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled(
      [...this.cards.entries()].map(([key, card]) => {
        clearTimeout(card.timer);
        card.timer = undefined;
        const [channel, ts] = key.split(/:(.*)/s, 2);
        return card.latest ? this.send(key, channel, ts, card) : Promise.resolve();
      }),
    );
  }

  private schedule(key: string, channel: string, ts: string, card: CardState, now = false): void {
    if (card.timer || card.busy) return; // the pending send will pick up the latest report
    const wait = now ? 0 : Math.max(0, card.last + this.minIntervalMs - Date.now());
    card.timer = setTimeout(() => {
      card.timer = undefined;
      void this.send(key, channel, ts, card);
    }, wait);
  }

  private async send(key: string, channel: string, ts: string, card: CardState): Promise<void> {
    const report = card.latest!;
    const waiters = card.waiters.splice(0);
    card.latest = undefined;
    card.busy = true;
    try {
      await this.client.chat.update({ channel, ts, ...redactDeep(renderReport(report)) });
      waiters.forEach((w) => w.resolve());
    } catch (err) {
      waiters.forEach((w) => w.reject(err));
    } finally {
      card.busy = false;
      card.last = Date.now();
      if (card.latest) this.schedule(key, channel, ts, card);
      else {
        // Kept until its interval is over: forgetting it at once would let the next update go
        // out immediately, and a steady trickle of updates would never be paced.
        card.forget = setTimeout(() => {
          if (!card.latest && !card.busy && !card.timer) this.cards.delete(key);
        }, this.minIntervalMs);
        card.forget.unref();
      }
    }
  }
}
