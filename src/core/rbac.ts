import type { Config } from '../config/schema.ts';
import type { Logger } from './log.ts';

/** Resolves a Slack user group (S…) to its member IDs. */
export type GroupResolver = (groupId: string) => Promise<string[]>;

const GROUP_TTL_MS = 5 * 60_000;

/** Roles come from config: user IDs directly, or user groups whose members are fetched and cached. */
export class Rbac {
  private readonly groups = new Map<string, { at: number; members: Promise<Set<string>> }>();

  constructor(private readonly config: Config, private readonly resolveGroup: GroupResolver | undefined, private readonly log: Logger) {}

  async rolesOf(user: string): Promise<Set<string>> {
    const roles = new Set<string>();
    await Promise.all(
      Object.entries(this.config.roles).map(async ([role, members]) => {
        for (const m of members) {
          if (m === user || (m.startsWith('S') && (await this.members(m)).has(user))) {
            roles.add(role);
            return;
          }
        }
      }),
    );
    return roles;
  }

  /** The users holding any of these roles, user groups expanded (schedule actors are not people). */
  async membersOf(roles: string[]): Promise<string[]> {
    const out = new Set<string>();
    for (const role of roles) {
      for (const m of this.config.roles[role] ?? []) {
        if (m.startsWith('S')) for (const u of await this.members(m)) out.add(u);
        else if (/^[UW]/.test(m)) out.add(m);
      }
    }
    return [...out];
  }

  private members(group: string): Promise<Set<string>> {
    const cached = this.groups.get(group);
    if (cached && Date.now() - cached.at < GROUP_TTL_MS) return cached.members;
    const members = (this.resolveGroup ? this.resolveGroup(group) : Promise.resolve([]))
      .then((ids) => new Set(ids))
      .catch((err: unknown) => {
        // Fail closed: an unresolvable group grants nothing, and is retried on the next call.
        this.log.warn({ group, err: String(err) }, 'user group lookup failed');
        this.groups.delete(group);
        return new Set<string>();
      });
    this.groups.set(group, { at: Date.now(), members });
    return members;
  }
}
