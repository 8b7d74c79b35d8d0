import type { Config } from '../config/schema.ts';
import { errorMessage, UserError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { channelMention, userMention } from '../core/mention.ts';
import type { Rbac } from '../core/rbac.ts';
import type { Report } from '../core/report.ts';
import { redactText } from '../core/redact.ts';
import { hasKey, msg, type T } from '../i18n/index.ts';
import type { Readers } from '../i18n/readers.ts';
import { candidateBackups } from '../backup/index.ts';
import type { Store } from '../store/types.ts';
import { checklistReport, incidentCard, incidentRef, roleName, topic } from './card.ts';
import { channelName, withSuffix } from './naming.ts';
import { planStep } from './plans.ts';
import type { IncidentSlack } from './slack.ts';
import { IncidentStore, type EventKind, type Incident, type IncidentStatus, type IncidentType } from './store.ts';

export interface IncidentDeps {
  store: Store;
  config: Config;
  slack: IncidentSlack;
  rbac: Rbac;
  readers: Readers;
  log: Logger;
  /** The bot's own user id: never invited, never a role holder. */
  botUser?: string;
}

// How long "is this an incident channel?" is remembered: it is asked for every command.
const CHANNEL_TTL_MS = 5000;
// The most channel names tried when the name (and its suffixed forms) are taken.
const NAME_ATTEMPTS = 20;

/**
 * Incident coordination (manual §8): one channel per incident, its card, the plan's checklist,
 * roles, updates, the timeline and the postmortem. Commands (commands/incident/) call this; the
 * dispatcher and the approval engine report what runs in an incident's channel to it.
 */
export class Incidents {
  readonly store: IncidentStore;
  private readonly channels = new Map<string, { at: number; id: Promise<number | undefined> }>();

  constructor(readonly deps: IncidentDeps) {
    this.store = new IncidentStore(deps.store);
  }

  get settings() {
    return this.deps.config.incidents;
  }

  /** The language of the incident's channel: its posts, card and checklist. */
  tFor(inc: Incident): T {
    return this.deps.readers.forChannel(inc.channel ?? inc.declared_in);
  }

  /** The incident whose channel this is (cached briefly: every command asks). */
  async incidentIn(channel: string): Promise<Incident | undefined> {
    const hit = this.channels.get(channel);
    if (hit && Date.now() - hit.at < CHANNEL_TTL_MS) {
      // A channel all typing at once shares one lookup; only an incident channel costs a read.
      const id = await hit.id;
      return id === undefined ? undefined : this.store.get(id);
    }
    const lookup = this.store.byChannel(channel);
    const id = lookup.then((inc) => inc?.id);
    this.channels.set(channel, { at: Date.now(), id });
    // A failed lookup is not remembered.
    id.catch(() => this.channels.delete(channel));
    return lookup;
  }

  /** The incident of the channel a command was typed in, or a clear error saying where to type it. */
  async require(channel: string): Promise<Incident> {
    const inc = await this.incidentIn(channel);
    if (inc) return inc;
    const open = await this.store.open();
    throw new UserError(msg('incidents:errors.not_incident_channel', {
      count: open.length,
      channels: open.map((i) => (i.channel ? channelMention(i.channel) : incidentRef(i))).join(', '),
    }));
  }

  /** Users holding any of the responder roles (user groups expanded). */
  private async responders(): Promise<string[]> {
    return this.deps.rbac.membersOf(this.settings.responders);
  }

  /**
   * Declares an incident: its channel (a free name from `channel_name`), the people in it, the
   * pinned card, the announcement and the plan. Each Slack step after the channel is best effort:
   * a failed pin or announcement is logged and the incident still stands.
   */
  async declare(p: { title: string; severity: string; type: IncidentType; user: string; channel: string; commander?: string }): Promise<Incident> {
    const commander = p.commander ?? p.user;
    let inc = await this.store.create({ title: p.title, type: p.type, severity: p.severity, declaredBy: p.user, declaredIn: p.channel, roles: { commander } });
    const base = channelName(this.settings.channel_name, { title: p.title, n: inc.id, at: new Date(inc.declared_at), timeZone: this.deps.config.timezone });
    let created: { id: string; name: string } | undefined;
    for (let attempt = 1; attempt <= NAME_ATTEMPTS && !created; attempt++) {
      const res = await this.deps.slack.createChannel(attempt === 1 ? base : withSuffix(base, attempt));
      if (!('taken' in res)) created = res;
    }
    if (!created) throw new UserError(msg('incidents:errors.no_channel_name', { name: base }));
    await this.store.setChannel(inc.id, created.id, created.name);
    this.channels.set(created.id, { at: Date.now(), id: Promise.resolve(inc.id) });
    inc = (await this.store.get(inc.id))!;
    const t = this.tFor(inc);
    await this.record(inc, 'declared', p.user, inc.title, { severity: inc.severity, type: inc.type }, new Date(inc.declared_at));
    const invitees = [p.user, commander, ...(await this.responders().catch(() => []))].filter((u) => u !== this.deps.botUser);
    await this.step('invite', () => this.deps.slack.invite(created.id, invitees));
    await this.step('topic', () => this.deps.slack.setTopic(created.id, topic(inc, t)));
    await this.step('card', async () => {
      const ts = await this.deps.slack.post(created.id, incidentCard(inc, this.settings.roles, t), t);
      await this.store.setMessages(inc.id, { card_ts: ts });
      await this.deps.slack.pin(created.id, ts);
    });
    await this.step('checklist', async () => {
      const ts = await this.deps.slack.post(created.id, await this.checklist(inc), t);
      await this.store.setMessages(inc.id, { checklist_ts: ts });
    });
    const announce = this.settings.announce;
    if (announce) {
      await this.step('announce', async () => {
        const ta = this.deps.readers.forChannel(announce);
        const ts = await this.deps.slack.post(announce, {
          title: ta('incidents:announce.title', { ref: incidentRef(inc), title: inc.title }),
          status: 'crit',
          summary: ta('incidents:announce.summary', { severity: inc.severity, type: ta(`incidents:type.${inc.type}`), user: userMention(p.user), channel: channelMention(created.id) }),
        }, ta);
        await this.store.setMessages(inc.id, { announce_channel: announce, announce_ts: ts });
      });
    }
    if (commander !== p.user) await this.step('dm', () => this.sendDuties(inc, 'commander', commander));
    return (await this.store.get(inc.id))!;
  }

  /** A Slack step that must not undo the incident when it fails (the channel already exists). */
  private async step(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.deps.log.warn({ step: what, err: errorMessage(err) }, 'incident step failed');
    }
  }

  /** The plan's checklist, with the data-loss plan's candidate backups. */
  async checklist(inc: Incident): Promise<Report> {
    const t = this.tFor(inc);
    const backups = inc.type === 'data-loss' ? await candidateBackups(this.deps.config, { limit: 5 }).catch(() => []) : undefined;
    return checklistReport(inc, await this.store.checklist(inc.id), t, backups);
  }

  /** Re-renders the card (and the topic when asked) in place. */
  async refreshCard(inc: Incident, opts: { topic?: boolean } = {}): Promise<void> {
    if (!inc.channel) return;
    const t = this.tFor(inc);
    if (inc.card_ts) await this.step('card_update', () => this.deps.slack.update(inc.channel!, inc.card_ts!, incidentCard(inc, this.settings.roles, t), t));
    if (opts.topic) await this.step('topic', () => this.deps.slack.setTopic(inc.channel!, topic(inc, t)));
  }

  async record(inc: Incident, kind: EventKind, actor: string | null, text: string, detail?: Record<string, unknown>, at?: Date): Promise<void> {
    await this.store.addEvent({ incidentId: inc.id, kind, actor, text: redactText(text), detail, at });
  }

  async assignRole(inc: Incident, role: string, user: string, by: string): Promise<Incident> {
    if (!this.settings.roles.includes(role)) throw new UserError(msg('incidents:errors.unknown_role', { role, roles: this.settings.roles }));
    if (user === this.deps.botUser) throw new UserError(msg('incidents:errors.bot_role'));
    const updated = (await this.store.setRole(inc.id, role, user))!;
    await this.record(updated, 'role', by, '', { role, user });
    await this.step('invite', () => this.deps.slack.invite(updated.channel!, [user]));
    await this.refreshCard(updated, { topic: role === 'commander' });
    await this.step('dm', () => this.sendDuties(updated, role, user));
    return updated;
  }

  /** The role's duties, from the catalogs, in the assignee's language. */
  private async sendDuties(inc: Incident, role: string, user: string): Promise<void> {
    const t = await this.deps.readers.forUser(user);
    const duties = hasKey(`incidents:duties.${role}`) ? t(`incidents:duties.${role}`) : '';
    await this.deps.slack.dm(user, {
      title: t('incidents:duties.title', { role: roleName(role, t), ref: incidentRef(inc), title: inc.title }),
      status: 'info',
      summary: inc.channel ? t('incidents:duties.where', { channel: channelMention(inc.channel) }) : undefined,
      sections: duties ? [{ title: t('incidents:duties.heading'), lines: duties.split('\n') }] : undefined,
    }, t);
  }

  /** An update: in the channel, and in the announcement's thread, so watchers need not join. */
  async update(inc: Incident, text: string, by: string): Promise<void> {
    const t = this.tFor(inc);
    const report = (tt: T): Report => ({
      title: tt('incidents:update.title', { ref: incidentRef(inc), title: inc.title }),
      status: 'info',
      summary: tt('incidents:update.by', { user: userMention(by), severity: inc.severity, status: tt(`incidents:status.${inc.status}`) }),
      sections: [{ title: '', lines: [text] }],
    });
    await this.deps.slack.post(inc.channel!, report(t), t);
    if (inc.announce_channel && inc.announce_ts) {
      const ta = this.deps.readers.forChannel(inc.announce_channel);
      await this.step('announce_thread', () => this.deps.slack.post(inc.announce_channel!, report(ta), ta, { threadTs: inc.announce_ts! }));
    }
    await this.store.markUpdated(inc.id);
    await this.record(inc, 'update', by, text);
  }

  async setStatus(inc: Incident, status: IncidentStatus, by: string, summary?: string): Promise<Incident> {
    const changed = await this.store.setStatus(inc.id, status, summary);
    if (!changed) throw new UserError(msg('incidents:errors.gone', { ref: incidentRef(inc) }));
    if (changed.before !== status) await this.record(changed.incident, status === 'resolved' ? 'resolved' : 'status', by, summary ?? '', { from: changed.before, to: status });
    await this.refreshCard(changed.incident, { topic: true });
    return changed.incident;
  }

  async setSeverity(inc: Incident, severity: string, by: string): Promise<Incident> {
    if (!this.settings.severities[severity]) throw new UserError(msg('incidents:errors.unknown_severity', { severity, known: Object.keys(this.settings.severities) }));
    const changed = (await this.store.setSeverity(inc.id, severity))!;
    if (changed.before !== severity) await this.record(changed.incident, 'severity', by, '', { from: changed.before, to: severity });
    await this.refreshCard(changed.incident, { topic: true });
    return changed.incident;
  }

  /** A checklist button: checks or unchecks the step, records it, and redraws the checklist. */
  async toggleItem(id: number, key: string, by: string): Promise<void> {
    const inc = await this.store.get(id);
    if (!inc || !planStep(inc.type, key)) return;
    const mark = await this.store.toggleItem(id, key, by);
    const t = this.tFor(inc);
    await this.record(inc, 'checklist', by, '', { type: inc.type, step: key, done: mark ? 'yes' : 'no' });
    if (inc.checklist_ts && inc.channel) await this.step('checklist_update', async () => this.deps.slack.update(inc.channel!, inc.checklist_ts!, await this.checklist(inc), t));
  }
}
