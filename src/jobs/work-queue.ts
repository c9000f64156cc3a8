/**
 * A bounded work queue: items are worked at most `concurrency` at a time, first come first
 * served, except those added `first` (the drift watcher's event checks go before a resync's).
 * With `key`, an item already waiting is not queued twice (added `first`, it moves to the
 * front). A failed item is handed to `onError` (default: the queue's `idle()` still resolves;
 * the error is dropped); `idle()` resolves once nothing waits or runs (tests, shutdown).
 */
export interface WorkQueueOptions<T> {
  /** Items worked at once. */
  concurrency: number;
  /** Identifies an item: one waiting item per key. */
  key?: (item: T) => string;
  /** Told of an item whose work failed. */
  onError?: (error: unknown, item: T) => void;
  /** Called every time the queue falls idle (nothing waiting, nothing running). */
  onIdle?: () => void;
}

export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private readonly waitingKeys = new Set<string>();
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly work: (item: T) => Promise<unknown>,
    private readonly options: WorkQueueOptions<T>,
  ) {}

  /** Queues an item (at the front with `first`); true unless an item of its key already waited in place. */
  add(item: T, opts: { first?: boolean } = {}): boolean {
    const key = this.options.key?.(item);
    if (key !== undefined && this.waitingKeys.has(key)) {
      if (!opts.first) return false;
      this.waiting.splice(
        this.waiting.findIndex((w) => this.options.key!(w) === key),
        1,
      );
    }
    if (key !== undefined) this.waitingKeys.add(key);
    if (opts.first) this.waiting.unshift(item);
    else this.waiting.push(item);
    this.pump();
    return true;
  }

  /** Drops every waiting item (those running finish). */
  clear(): void {
    this.waiting.length = 0;
    this.waitingKeys.clear();
    this.settle();
  }

  /** Items waiting and running. */
  get size(): number {
    return this.waiting.length + this.running;
  }

  isIdle(): boolean {
    return this.size === 0;
  }

  /** Resolves once nothing waits or runs. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < Math.max(1, this.options.concurrency) && this.waiting.length > 0) {
      const item = this.waiting.shift()!;
      const key = this.options.key?.(item);
      if (key !== undefined) this.waitingKeys.delete(key);
      this.running++;
      let run: Promise<unknown>;
      try {
        run = this.work(item);
      } catch (error) {
        run = Promise.reject(error);
      }
      void run
        .catch((error: unknown) => this.options.onError?.(error, item))
        .finally(() => {
          this.running--;
          this.pump();
          this.settle();
        });
    }
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.options.onIdle?.();
  }
}

/**
 * Works every item, at most `concurrency` at a time, in order; once `halted()` says so no further
 * item is started. Rejects with the first failure (no further item is started after it; those
 * running finish by themselves), else resolves when every started item is done.
 */
export function workAll<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
  halted: () => boolean = () => false,
): Promise<void> {
  if (items.length === 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const queue = new WorkQueue<T>(
      async (item) => {
        if (failed || halted()) return;
        await work(item);
      },
      {
        concurrency: Math.min(concurrency, items.length),
        onError: (error) => {
          if (failed) return;
          failed = true;
          queue.clear();
          reject(error);
        },
      },
    );
    for (const item of items) queue.add(item);
    void queue.idle().then(() => resolve());
  });
}
