import type { Config } from '../config/schema.ts';

export const KINDS = ['daily', 'weekly', 'monthly'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * One line of appendix A. `command`: run on its own through the dispatcher; `person`: a button a
 * person checks; `backups`: read from the backup records; neither, or a command this bot does not
 * have: "not automated", never shown as passed.
 */
export interface Item {
  key: string;
  command?: string;
  person?: true;
  backups?: true;
}

// Appendix A, in its order. Texts are catalog keys `checklists:item.<key>`.
const ITEMS: Record<Kind, Item[]> = {
  daily: [
    { key: 'services', command: '/health containers' },
    { key: 'disk', command: '/health host' },
    { key: 'error_logs', command: '/health errors' },
    { key: 'alerts', command: '/alerts' },
  ],
  weekly: [
    { key: 'db_maintenance', command: '/db bloat' },
    { key: 'cache', command: '/cache info' },
    { key: 'performance', command: '/perf' },
    { key: 'security', command: '/security check' },
  ],
  monthly: [
    { key: 'updates', person: true },
    { key: 'backup_verify', backups: true },
    { key: 'capacity', command: '/capacity' },
    { key: 'security_audit', person: true },
  ],
};

/** The items of a checklist, with commands this bot (or this config) cannot run marked not automated. */
export function itemsOf(kind: Kind, commandNames: Set<string>, config: Config): Item[] {
  return ITEMS[kind].map((item) => {
    if (!item.command) return item;
    const name = item.command.slice(1).split(' ')[0];
    const usable = commandNames.has(name) && (name !== 'alerts' || !!config.alerts?.alertmanager);
    return usable ? item : { key: item.key };
  });
}
