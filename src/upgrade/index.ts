/**
 * Upgrades and rollbacks (manual §7): what commands/upgrade.ts, rollback.ts and versions.ts share.
 * main.ts wires it to the state store, to a poster for the users' channel (§7.1 通知用户), and
 * to the dispatcher, through which a rollback with data files its /restore like anyone would.
 */
import type { Config } from '../config/schema.ts';
import type { Invocation, Send } from '../core/dispatch.ts';
import type { Readers } from '../i18n/readers.ts';
import type { ChannelPost } from '../schedule/post.ts';
import type { Store } from '../store/types.ts';
import { VersionStore } from './versions.ts';

export interface Upgrades {
  versions: VersionStore;
  db: Store;
  post: ChannelPost;
  readers: Readers;
  /** Runs a command line as a person would type it (roles, approvals and audit apply). */
  dispatch(inv: Invocation, send: Send): Promise<void>;
}

const byConfig = new WeakMap<Config, Upgrades>();

export function upgradesFor(config: Config): Upgrades | undefined {
  return byConfig.get(config);
}

export function createUpgrades(deps: Omit<Upgrades, 'versions' | 'db'> & { store: Store; config: Config }): Upgrades {
  const u: Upgrades = { versions: new VersionStore(deps.store), db: deps.store, post: deps.post, readers: deps.readers, dispatch: deps.dispatch };
  byConfig.set(deps.config, u);
  return u;
}
