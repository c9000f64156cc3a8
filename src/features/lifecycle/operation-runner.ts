/**
 * Runs the operations (apply, terminate) of this replica, one per logical cloud, each holding
 * the logical cloud's lease (see lease-store.ts) and renewing it every third of its TTL. A
 * renewal that finds the lease taken marks the operation's claim lost: from then on `holds()`
 * is false and the operation writes nothing more (fencing: the replica that took it over
 * writes the outcome). Stop requests (EMCO's …/stop) are shared by the replicas through the
 * StopRequestStore and read at every renewal.
 *
 * `exclusive` runs a change that no operation may overlap under a holder of its own.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../errors.js';
import type { LeaseStore } from '../../db/lease-store.js';
import type { Logger } from '../../logger.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type { StopRequestStore } from './stop-requests.store.js';

export interface OperationRunnerOptions {
  /** This replica's name in leases. */
  replicaId: string;
  /** How long a claim on a logical cloud lasts unless renewed (renewed every third of it). */
  leaseTtlMs: number;
  stops: StopRequestStore;
  /** Operations worked at once on this replica; the others wait their turn, their leases held (default: no bound). */
  maxRunning?: number;
}

/** This replica's claim on one logical cloud's operation; `lost` once a renewal found it taken, `stopped` once a stop was asked for. */
interface Claim {
  lost: boolean;
  stopped: boolean;
}

export class OperationRunner {
  /** Operations this replica is working, by logical cloud id. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly claims = new Map<string, Claim>();
  /** Operations working now (at most `maxRunning`), and those waiting their turn, first come first served. */
  private working = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly leases: LeaseStore,
    private readonly options: OperationRunnerOptions,
    private readonly logger: Logger,
  ) {}

  get replicaId(): string {
    return this.options.replicaId;
  }

  isRunning(logicalCloudId: string): boolean {
    return this.running.has(logicalCloudId);
  }

  refuseWhileRunning(lc: LogicalCloudRecord): void {
    if (this.running.has(lc.id))
      throw new ConflictError(`an operation on Logical Cloud ${lc.name} is already in progress`);
  }

  /** Takes the logical cloud's lease for a new operation, or refuses: another replica (or request) is working it. */
  async claim(lc: LogicalCloudRecord): Promise<void> {
    if (await this.acquire(lc.id)) {
      if (!this.running.has(lc.id)) {
        // A stop asked of an earlier operation is not this one's.
        await this.options.stops.clear(lc.id);
        return;
      }
      // Already ours and running here (a concurrent request of this replica won the race).
    }
    throw new ConflictError(`an operation on Logical Cloud ${lc.name} is already in progress`);
  }

  /** Takes the logical cloud's lease for this replica (free, expired or already this replica's). */
  acquire(logicalCloudId: string): Promise<boolean> {
    return this.leases.acquire(logicalCloudId, this.options.replicaId, this.options.leaseTtlMs);
  }

  /** Gives back a lease taken for an operation that did not start. */
  async release(logicalCloudId: string): Promise<void> {
    await this.leases.release(logicalCloudId, this.options.replicaId);
  }

  /**
   * Runs an operation whose lease this replica has just taken, renewing the lease until it
   * ends. A `work` that throws is logged and handed to `onFailure` (which records it).
   */
  start(logicalCloudId: string, work: () => Promise<void>, onFailure: (error: unknown) => Promise<void>): void {
    const { replicaId, leaseTtlMs } = this.options;
    const claim: Claim = { lost: false, stopped: false };
    this.claims.set(logicalCloudId, claim);
    const renewal = setInterval(() => this.renew(logicalCloudId, claim), Math.max(100, Math.floor(leaseTtlMs / 3)));
    renewal.unref();
    const run = this.inTurn(work)
      .catch(async (error: unknown) => {
        this.logger.error({ err: error, logicalCloudId }, 'lifecycle operation failed');
        await onFailure(error).catch((failure: unknown) =>
          this.logger.error(
            { err: failure, logicalCloudId },
            'the failed operation could not be recorded; another replica will take it over',
          ),
        );
      })
      .finally(async () => {
        clearInterval(renewal);
        if (!claim.lost) await this.options.stops.clear(logicalCloudId).catch(() => undefined);
        if (!claim.lost) await this.leases.release(logicalCloudId, replicaId).catch(() => undefined);
        this.claims.delete(logicalCloudId);
        this.running.delete(logicalCloudId);
      });
    this.running.set(logicalCloudId, run);
  }

  /** Operations waiting for their turn on this replica (beyond `maxRunning`). */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` once fewer than `maxRunning` operations work: a burst of applies (a thousand
   * logical clouds at once) is worked a few at a time instead of all at once against the
   * database and the clusters. While it waits its lease is renewed and a stop is still seen.
   */
  private async inTurn(work: () => Promise<void>): Promise<void> {
    const max = this.options.maxRunning ?? Infinity;
    if (this.working >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.working++;
    try {
      await work();
    } finally {
      // The turn passes straight to the next waiting operation (the count stays), or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.working--;
    }
  }

  /** Whether this replica still holds the logical cloud's lease for the operation it runs (fencing). */
  holds(logicalCloudId: string): boolean {
    return this.claims.get(logicalCloudId)?.lost === false;
  }

  /** Whether a stop was asked for the operation this replica runs: no further cluster is started. */
  stopping(logicalCloudId: string): boolean {
    return this.claims.get(logicalCloudId)?.stopped === true;
  }

  /** Asks the operation under way to stop, on whichever replica runs it (this one at once, another at its next renewal). */
  async requestStop(logicalCloudId: string): Promise<void> {
    await this.options.stops.request(logicalCloudId);
    const claim = this.claims.get(logicalCloudId);
    if (claim) claim.stopped = true;
  }

  /**
   * Runs `work` holding the logical cloud's lease under a holder of its own: an apply or
   * terminate (on any replica) cannot start meanwhile, and `work` cannot start while one runs
   * (ConflictError).
   */
  async exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T> {
    const holder = `${this.options.replicaId}/change/${randomUUID().slice(0, 8)}`;
    const busy = () =>
      new ConflictError(`an operation on Logical Cloud ${lc.name} is in progress; change it once it has finished`);
    if (this.running.has(lc.id)) throw busy();
    if (!(await this.leases.acquire(lc.id, holder, this.options.leaseTtlMs))) throw busy();
    try {
      return await work();
    } finally {
      await this.leases.release(lc.id, holder).catch(() => undefined);
    }
  }

  /** Resolves when the logical cloud's operation under way here (if any) has finished. */
  async settled(logicalCloudId: string): Promise<void> {
    await this.running.get(logicalCloudId);
  }

  /** Waits for every operation under way (graceful shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private renew(logicalCloudId: string, claim: Claim): void {
    const { replicaId, leaseTtlMs } = this.options;
    void this.leases
      .renew(logicalCloudId, replicaId, leaseTtlMs)
      .then((held) => {
        if (held || claim.lost) return;
        claim.lost = true;
        this.logger.warn(
          { logicalCloudId, replica: replicaId },
          'lease lost: another replica took the operation over; stopping',
        );
      })
      .catch((error: unknown) => this.logger.warn({ err: error, logicalCloudId }, 'lease renewal failed'));
    // A stop asked of another replica reaches this one here.
    void this.options.stops
      .requested(logicalCloudId)
      .then((asked) => {
        if (asked) claim.stopped = true;
      })
      .catch(() => undefined);
  }
}
