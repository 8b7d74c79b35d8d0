/**
 * The work after an ack, bounded: at most `concurrency` jobs run and at most `size` wait. A job
 * offered to a full queue is refused at once (the caller tells the user "busy"), so neither the
 * backlog nor the memory it holds grows with the load.
 */
export interface WorkQueueOptions {
  concurrency: number;
  size: number;
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private head = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: WorkQueueOptions) {}

  /** Jobs running now. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a free slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /**
   * Runs `job` when a slot is free. Returns undefined, without running it, when `size` jobs are
   * already waiting; otherwise a promise of the job's result.
   */
  offer<T>(job: () => Promise<T>): Promise<T> | undefined {
    if (this.running < this.opts.concurrency) {
      this.running++;
      return this.run(job);
    }
    if (this.queued >= this.opts.size) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.run(job));
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } finally {
      this.next();
    }
  }

  /** Hands the finished job's slot to the next waiter (the slot count stays), or frees it. */
  private next(): void {
    if (this.head < this.waiting.length) {
      const wake = this.waiting[this.head];
      this.waiting[this.head++] = undefined as never;
      // Compact now and then, so the array does not keep every job ever queued.
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      wake();
      return;
    }
    this.running--;
    if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
