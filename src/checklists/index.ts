/**
 * The manual's checklists (appendix A) on a calendar: `/checklist daily|weekly|monthly` runs the
 * automated items through the dispatcher (as whoever asked: a person, or a schedule), keeps what
 * they found, and offers the items that need a person as buttons. Open items are reminded once
 * at the end of the day.
 */
import type { Config } from '../config/schema.ts';
import type { Dispatcher, Reply } from '../core/dispatch.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { plainMentions } from '../core/mention.ts';
import type { Report, Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { Readers } from '../i18n/readers.ts';
import { candidateBackups } from '../backup/index.ts';
import type { Scheduler } from '../schedule/index.ts';
import type { Store } from '../store/types.ts';
import { itemsOf, type Item, type Kind } from './items.ts';
import { checklistReport } from './report.ts';
import { ChecklistStore, type ChecklistRun, type ItemResult } from './store.ts';

// A verification older than this does not count for the monthly "backup verification".
const VERIFIED_WITHIN_MS = 35 * 86_400_000;
const SUMMARY_CHARS = 200;

const STATUS: Record<string, Status> = { ok: 'ok', info: 'ok', warn: 'warn' };

export interface ChecklistDeps {
  store: Store;
  config: Config;
  dispatcher: Dispatcher;
  readers: Readers;
  log: Logger;
  /** Posts a report in a channel (the reminder). */
  post: (channel: string, report: Report, t: T) => Promise<void>;
  scheduler?: Scheduler;
}

export class Checklists {
  readonly store: ChecklistStore;

  constructor(private readonly deps: ChecklistDeps) {
    this.store = new ChecklistStore(deps.store);
  }

  items(kind: Kind): Item[] {
    return itemsOf(kind, new Set(this.deps.dispatcher.commands.map((c) => c.name)), this.deps.config);
  }

  /** Runs the automated items in parallel and records the run. */
  async run(kind: Kind, user: string, channel: string, t: T): Promise<ChecklistRun> {
    const results: Record<string, ItemResult> = {};
    await Promise.all(this.items(kind).map(async (item) => {
      const r = item.command ? await this.command(item.command, user, channel) : item.backups ? await this.backups(t) : undefined;
      if (r) results[item.key] = { status: r.status, summary: short(r.summary) };
    }));
    return this.store.create(kind, channel, user, results);
  }

  /** An item's command, through the dispatcher like a typed one (roles, audit), its reply kept here. */
  private async command(line: string, user: string, channel: string): Promise<ItemResult> {
    const [command, ...rest] = line.split(' ');
    let got: Reply | undefined;
    await this.deps.dispatcher.handle({ command, text: rest.join(' '), user, channel }, async (reply) => void (got = reply));
    const status = STATUS[got?.outcome ?? ''] ?? 'crit';
    return { status, summary: `${line} · ${got?.report.summary ?? ''}` };
  }

  /** Monthly "backup verification": the newest verified backup, from the backup records. */
  private async backups(t: T): Promise<ItemResult | undefined> {
    if (!Object.keys(this.deps.config.backups.postgres).length) return undefined;
    const all = await candidateBackups(this.deps.config, { limit: 50 });
    const verified = all.find((b) => b.verified === 'ok' && b.verifiedAt && Date.now() - b.verifiedAt.getTime() < VERIFIED_WITHIN_MS);
    const failed = all.find((b) => b.verified === 'failed');
    if (verified) return { status: 'ok', summary: t('checklists:backups.verified', { id: verified.id, at: verified.verifiedAt! }) };
    if (failed) return { status: 'crit', summary: t('checklists:backups.failed', { id: failed.id }) };
    return { status: 'warn', summary: t('checklists:backups.none') };
  }

  async report(run: ChecklistRun, t: T): Promise<Report> {
    return checklistReport(run, this.items(run.kind), await this.store.marks(run.id), t);
  }

  /** The end-of-day reminder: open person items of each run whose day is over, once across replicas. */
  async remind(): Promise<string> {
    const { remind_at: at } = this.deps.config.checklists;
    let sent = 0;
    for (const run of await this.store.claimReminders(at, this.deps.config.timezone)) {
      const marks = new Set((await this.store.marks(run.id)).map((m) => m.item));
      const open = this.items(run.kind).filter((i) => i.person && !marks.has(i.key));
      if (!open.length) continue;
      const t = this.deps.readers.forChannel(run.channel);
      try {
        await this.deps.post(run.channel, {
          title: t('checklists:reminder.title', { name: t(`checklists:title.${run.kind}`) }),
          status: 'warn',
          summary: t('checklists:reminder.summary', { items: open.map((i) => t(`checklists:item.${i.key}`)), at: new Date(run.created_at) }),
        }, t);
        sent++;
      } catch (err) {
        this.deps.log.warn({ run: run.id, err: errorMessage(err) }, 'checklist reminder failed');
      }
    }
    return sent ? 'reminded' : 'ok';
  }
}

const short = (text: string) => {
  const one = plainMentions(text).replace(/\s+/g, ' ').trim();
  return one.length > SUMMARY_CHARS ? `${one.slice(0, SUMMARY_CHARS - 1)}…` : one;
};

const byConfig = new WeakMap<Config, Checklists>();

export function checklistsFor(config: Config): Checklists | undefined {
  return byConfig.get(config);
}

export function createChecklists(deps: ChecklistDeps): Checklists {
  const checklists = new Checklists(deps);
  byConfig.set(deps.config, checklists);
  // i18n-exempt: what /schedule list shows it runs, a name like a command line
  deps.scheduler?.schedule('checklist-reminders', deps.config.checklists.check_every, () => checklists.remind(), { label: '/checklist reminders', catchUp: 0 });
  return checklists;
}
