/**
 * Takes over operations that no replica works any more: an apply or terminate recorded in
 * progress whose lease has expired (its replica stopped or died) is claimed by this replica and
 * run again from the start (every step is safe to repeat). Run once at start-up, then every
 * half lease TTL (by the job registry).
 */
import type { Logger } from '../../logger.js';
import type { LifecycleDocument, LifecycleStatusStore } from './lifecycle-status.store.js';
import type { OperationRunner } from './operation-runner.js';

export class InterruptedOperationsJob {
  /** `resume(doc)` starts the recorded operation under the lease this job has just taken. */
  constructor(
    private readonly status: Pick<LifecycleStatusStore, 'inProgress' | 'get'>,
    private readonly runner: Pick<OperationRunner, 'isRunning' | 'acquire' | 'release' | 'replicaId'>,
    private readonly resume: (doc: LifecycleDocument) => void,
    private readonly leaseTtlMs: number,
    private readonly logger: Logger,
  ) {}

  /** How often the job registry runs it: every half lease TTL. */
  get intervalMs(): number {
    return Math.max(250, Math.floor(this.leaseTtlMs / 2));
  }

  /** Claims and resumes the operations in progress that no replica works; returns how many it took over. */
  async resumeInterrupted(): Promise<number> {
    let resumed = 0;
    for (const found of await this.status.inProgress()) {
      if (this.runner.isRunning(found._id)) continue;
      if (!(await this.runner.acquire(found._id))) continue;
      // It may have finished between the query and the claim.
      const doc = await this.status.get(found._id);
      if (!doc?.operation.inProgress || this.runner.isRunning(doc._id)) {
        if (!this.runner.isRunning(found._id)) await this.runner.release(found._id);
        continue;
      }
      this.logger.info(
        {
          project: doc.project,
          logicalCloud: doc.logicalCloud,
          operation: doc.operation.kind,
          replica: this.runner.replicaId,
        },
        'resuming interrupted operation',
      );
      this.resume(doc);
      resumed++;
    }
    return resumed;
  }
}
