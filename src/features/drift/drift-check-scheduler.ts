/**
 * The drift checks to run: scheduled after a delay (debounced: one per logical cloud and cluster
 * while it waits), then queued and run a bounded number at a time; a check an event asked for
 * goes before those of a resync (a repair does not wait for a full resync). A check whose logical
 * cloud was busy is tried again later.
 */
import { WorkQueue } from '../../jobs/work-queue.js';
import type { Logger } from '../../logger.js';
import type { CheckOutcome } from './drift-checker.js';

/** A check whose logical cloud is busy (an operation holds its lease) is tried again after this long. */
const BUSY_RETRY_MS = 2000;

interface Check {
  id: string;
  provider: string;
  cluster: string;
}

const keyOf = (c: Check) => `${c.id}|${c.provider}/${c.cluster}`;

export interface DriftCheckSchedulerOptions {
  concurrency: number;
  logger: Logger;
  /** Whether busy checks are still tried again (the watcher runs). */
  running(): boolean;
  /** Told whenever nothing is scheduled, queued or running any more. */
  onIdle(): void;
}

export class DriftCheckScheduler {
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly queue: WorkQueue<Check>;

  constructor(
    check: (logicalCloudId: string, provider: string, cluster: string) => Promise<CheckOutcome>,
    private readonly options: DriftCheckSchedulerOptions,
  ) {
    const { logger } = options;
    this.queue = new WorkQueue<Check>(
      async (c) => {
        const outcome = await check(c.id, c.provider, c.cluster);
        if (outcome === 'busy' && options.running()) this.schedule(c.id, c.provider, c.cluster, BUSY_RETRY_MS);
      },
      {
        concurrency: options.concurrency,
        key: keyOf,
        onError: (error, c) =>
          logger.warn(
            { err: error, logicalCloudId: c.id, cluster: `${c.provider}/${c.cluster}` },
            'drift check failed',
          ),
        onIdle: () => this.isIdle() && options.onIdle(),
      },
    );
  }

  /** Queues the check after `delayMs`, unless it is scheduled already. */
  schedule(id: string, provider: string, cluster: string, delayMs: number): void {
    const key = keyOf({ id, provider, cluster });
    if (this.scheduled.has(key)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(key);
      this.enqueue(id, provider, cluster, true);
    }, delayMs);
    timer.unref();
    this.scheduled.set(key, timer);
  }

  /** Queues a check now; `fromEvent`: before those of a resync. */
  enqueue(id: string, provider: string, cluster: string, fromEvent = false): void {
    this.queue.add({ id, provider, cluster }, { first: fromEvent });
  }

  /** Drops what is scheduled and queued (checks running finish). */
  clear(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    this.queue.clear();
  }

  isIdle(): boolean {
    return this.scheduled.size === 0 && this.queue.isIdle();
  }
}
