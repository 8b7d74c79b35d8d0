/** Anything that runs SQL: the store itself, or one dedicated session of it. */
export interface Queryable {
  /** One statement, values always as parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements at once, no parameters (migrations only). */
  exec(sql: string): Promise<void>;
}

/** The bot's own state: audit events now, approvals and incidents later. */
export interface Store extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * State transitions and their audit rows go through here so neither happens without the other.
   */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on a single connection (session-level locks need that). */
  session<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
