/**
 * The process's lifecycle as the outside sees it. After SIGTERM the process is draining: /readyz
 * answers 503 so a load balancer stops sending it work, new commands and clicks are turned away
 * (the other replica takes them), and what was already accepted finishes within the grace.
 */
export class Lifecycle {
  private since: number | undefined;

  get draining(): boolean {
    return this.since !== undefined;
  }

  /** When draining started (ms since the epoch), for the log and /readyz. */
  get drainingSince(): number | undefined {
    return this.since;
  }

  startDraining(): void {
    this.since ??= Date.now();
  }
}

/** Waits for `work` at most `ms`; true when it settled in time. Never rejects. */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
