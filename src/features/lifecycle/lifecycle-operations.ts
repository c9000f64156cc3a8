/**
 * The apply and terminate operations of a logical cloud: recorded in its status document first
 * (under its lease, see operation-runner.ts), then run in the background over its clusters in
 * parallel with bounded concurrency, each cluster worked and recorded by the ClusterReconciler
 * and failing only its own entries; at the end the operation's outcome is written. An operation
 * taken over from a replica that died runs again from the start: every step is safe to repeat.
 */
import { messageOf } from '../../controllers/cluster-context.js';
import type { TenantIdentity } from '../../domain/tenant-identity.js';
import type { Logger } from '../../logger.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import { workAll } from '../../jobs/work-queue.js';
import { placementOf, samePlacement } from './cluster-placements.js';
import type { ClusterReconciler } from './cluster-reconciler.js';
import { brokenOff, failedAtStart, referenceOf } from './operation-outcomes.js';
import {
  applyFinished,
  applyStarted,
  terminateFinished,
  terminateStarted,
  type ApplyRequest,
} from './operation-documents.js';
import { withRefusedPermissions } from './reapply-policy.js';
import type { CredentialsStore } from './credentials.store.js';
import type {
  ClusterPlacement,
  ClusterStatus,
  LifecycleDocument,
  LifecycleStatusStore,
} from './lifecycle-status.store.js';
import type { OperationRunner } from './operation-runner.js';
import { checkTerminate } from './preconditions.js';
import { RevocationAudit } from './revocation-audit.js';
import type { LifecycleObserver } from './lifecycle-observer.js';

export type { LifecycleObserver } from './lifecycle-observer.js';

export interface LifecycleOperationsOptions {
  /** Clusters worked at once per operation. */
  concurrency: number;
  observer?: LifecycleObserver | undefined;
}

export class LifecycleOperations {
  /** What a revocation removed that the tenant had made (the audit trail). */
  private readonly audit: RevocationAudit;

  constructor(
    private readonly runner: OperationRunner,
    private readonly reconciler: ClusterReconciler,
    private readonly status: LifecycleStatusStore,
    private readonly credentials: Pick<CredentialsStore, 'delete'>,
    private readonly options: LifecycleOperationsOptions,
    private readonly logger: Logger,
  ) {
    this.audit = new RevocationAudit(logger);
  }

  /** Records an apply of the logical cloud onto the references' clusters and starts it. */
  async startApply(
    project: string,
    lc: LogicalCloudRecord,
    placements: ClusterPlacement[],
    request: ApplyRequest,
  ): Promise<LifecycleDocument> {
    await this.runner.claim(lc);
    const doc = applyStarted(project, lc, placements, request, await this.status.get(lc.id));
    await this.recordOrRelease(doc);
    this.resume(doc);
    return doc;
  }

  /** Records a terminate of the logical cloud on every cluster that may hold objects of it and starts it. */
  async startTerminate(project: string, lc: LogicalCloudRecord): Promise<LifecycleDocument> {
    await this.runner.claim(lc);
    const previous = await this.status.get(lc.id);
    try {
      checkTerminate(lc, previous); // it may have changed before the claim
    } catch (error) {
      await this.runner.release(lc.id);
      throw error;
    }
    const doc = terminateStarted(previous!);
    await this.recordOrRelease(doc);
    this.resume(doc);
    return doc;
  }

  /** Runs the recorded operation; this replica has just taken the logical cloud's lease. */
  resume(doc: LifecycleDocument): void {
    const run =
      doc.operation.kind === 'apply'
        ? () => this.runApply(doc.project, doc._id)
        : () => this.runTerminate(doc.project, doc._id);
    this.runner.start(doc._id, run, (error) => this.endFailed(doc._id, error));
  }

  /** Records a new operation; on failure gives the just-taken lease back. */
  private async recordOrRelease(doc: LifecycleDocument): Promise<void> {
    try {
      await this.status.put(doc);
    } catch (error) {
      await this.runner.release(doc._id).catch(() => undefined);
      throw error;
    }
  }

  /** Works one cluster of the operation and tells the observer; undefined once this replica lost the lease. */
  private async workCluster(...[work, p, kind, options]: Parameters<ClusterReconciler['workCluster']>) {
    const started = performance.now();
    const outcome = await this.reconciler.workCluster(work, p, kind, options);
    this.options.observer?.clusterFinished({
      kind: kind === 'apply' ? 'apply' : 'terminate',
      provider: p.provider,
      cluster: p.cluster,
      outcome: outcome.status.state === 'Applied' || outcome.status.state === 'Terminated' ? 'success' : 'failure',
      seconds: (performance.now() - started) / 1000,
    });
    return this.runner.holds(work.logicalCloud.id) ? outcome : undefined;
  }

  private async runApply(project: string, logicalCloudId: string): Promise<void> {
    const loaded = await this.reconciler.loadRecords(logicalCloudId);
    const doc = await this.status.get(logicalCloudId);
    if (!loaded || !doc) return;
    let tenant: TenantIdentity | undefined;
    try {
      tenant = await this.reconciler.prepareTenant(project, loaded.lc, doc.operation.credentialGeneration);
    } catch (error) {
      await this.failApply(doc, `the tenant's credentials could not be prepared: ${(error as Error).message}`);
      return;
    }
    const current = loaded.references.map(placementOf);
    // Unless an admin applied it last, the project's policy as it is now bounds the apply (reapply-policy.ts).
    const judgement = doc.policyExempt
      ? undefined
      : await this.reconciler.judgePolicy(project, loaded.lc, loaded.permissions, current);
    const permissions = judgement?.admitted ?? loaded.permissions;
    const work = {
      project,
      logicalCloud: loaded.lc,
      permissions,
      quotas: loaded.quotas,
      ...(tenant ? { tenant } : {}),
    };
    const cleanUp = doc.operation.removeTenantIdentities === true;
    // A cluster no longer referenced is cleaned up (unless another reference now names it).
    const removed = doc.placements.filter(
      (p) => !current.some((c) => c.provider === p.provider && c.cluster === p.cluster),
    );
    // A cluster this apply added, on which it certainly created nothing, holds nothing of it.
    const heldBefore = doc.heldBefore ?? doc.placements;
    const holdsNothing = new Set<ClusterPlacement>();
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    const steps = [
      ...current.map((p) => ({ p, kind: 'apply' as const })),
      ...removed.map((p) => ({ p, kind: 'remove' as const })),
    ];
    const applying = (p: ClusterPlacement): ClusterStatus => ({ ...p, state: 'Applying', resources: [], warnings: [] });
    // The clusters worked first are marked Applying in one write; the others as they are taken up.
    // (A stop that comes meanwhile leaves them Applying, unworked: the outcome records them as not reached.)
    const halted = () => !this.runner.holds(logicalCloudId) || this.runner.stopping(logicalCloudId);
    const first = new Set(
      halted()
        ? []
        : steps
            .slice(0, this.options.concurrency)
            .filter((s) => s.kind === 'apply')
            .map((s) => s.p),
    );
    await this.status.setClusters(logicalCloudId, [...first].map(applying));
    await workAll(
      steps,
      this.options.concurrency,
      async ({ p, kind }) => {
        if (kind === 'apply' && !first.has(p)) await this.reconciler.writeStatus(logicalCloudId, applying(p));
        const refusal = kind === 'apply' ? judgement?.clusterRefusal(p) : undefined;
        const outcome = refusal
          ? await this.reconciler.refuseCluster(logicalCloudId, p, refusal)
          : await this.workCluster(work, p, kind, {
              reference: referenceOf(loaded, p),
              ...(kind === 'apply' && cleanUp ? { removeTenantIdentities: true } : {}),
            });
        if (!outcome || !this.runner.holds(logicalCloudId)) return;
        if (kind === 'apply' && !refusal) outcome.status = withRefusedPermissions(outcome.status, judgement);
        if (outcome.removedIdentities?.length)
          this.audit.removed(project, loaded.lc.name, p, outcome.removedIdentities);
        if (kind === 'apply' && outcome.nothingCreated && !heldBefore.some((q) => samePlacement(p, q)))
          holdsNothing.add(p);
        if (kind === 'remove') {
          // A removed cluster that was cleaned up leaves the status; one that failed stays visible.
          if (outcome.status.state === 'Terminated') return;
          stillHolding.push(p);
        }
        await this.reconciler.writeStatus(logicalCloudId, outcome.status);
      },
      halted,
    );
    if (!this.runner.holds(logicalCloudId)) return; // the replica that took over writes the outcome
    const found = await this.status.get(logicalCloudId);
    if (!found) return;
    const stopped = this.runner.stopping(logicalCloudId);
    const done = applyFinished(found, stopped, [...current.filter((p) => !holdsNothing.has(p)), ...stillHolding]);
    const failed = done.state === 'InstantiateFailed';
    await this.status.put(done, found);
    this.options.observer?.operationFinished({
      kind: 'apply',
      outcome: failed ? 'failure' : 'success',
      seconds: (performance.now() - started) / 1000,
      clusters: current.length,
    });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed }, 'apply finished');
  }

  private async runTerminate(project: string, logicalCloudId: string): Promise<void> {
    const loaded = await this.reconciler.loadRecords(logicalCloudId);
    const doc = await this.status.get(logicalCloudId);
    if (!loaded || !doc) return;
    const work = { project, logicalCloud: loaded.lc, permissions: loaded.permissions, quotas: loaded.quotas };
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    await workAll(
      doc.placements,
      this.options.concurrency,
      async (p) => {
        await this.reconciler.writeStatus(logicalCloudId, { ...p, state: 'Terminating', resources: [], warnings: [] });
        const outcome = await this.workCluster(work, p, 'remove', { reference: referenceOf(loaded, p) });
        if (!outcome) return;
        if (outcome.status.state !== 'Terminated') stillHolding.push(p);
        await this.reconciler.writeStatus(logicalCloudId, outcome.status);
      },
      () => !this.runner.holds(logicalCloudId) || this.runner.stopping(logicalCloudId),
    );
    if (!this.runner.holds(logicalCloudId)) return;
    const final = await this.status.get(logicalCloudId);
    if (!final) return;
    // This credential generation is over: the next apply starts a new one (new key, new group),
    // so no certificate issued before the terminate is ever bound again.
    await this.credentials.delete(logicalCloudId);
    const done = terminateFinished(final, this.runner.stopping(logicalCloudId), stillHolding);
    const failed = done.placements.length > 0;
    await this.status.put(done, final);
    this.options.observer?.operationFinished({
      kind: 'terminate',
      outcome: failed ? 'failure' : 'success',
      seconds: (performance.now() - started) / 1000,
      clusters: doc.placements.length,
    });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed }, 'terminate finished');
  }

  /**
   * An operation that broke off (its status could not be written, say) ends failed instead of
   * being taken over and broken off again on every replica (see brokenOff).
   */
  private async endFailed(logicalCloudId: string, error: unknown): Promise<void> {
    if (!this.runner.holds(logicalCloudId)) return;
    const doc = await this.status.get(logicalCloudId);
    if (!doc?.operation.inProgress) return;
    await this.status.put(brokenOff(doc, messageOf(error)));
  }

  /** Ends an apply that could not start on any cluster: every cluster Failed with the reason. */
  private async failApply(doc: LifecycleDocument, message: string): Promise<void> {
    if (!this.runner.holds(doc._id)) return;
    await this.status.put(failedAtStart(doc, message));
    this.logger.warn({ project: doc.project, logicalCloud: doc.logicalCloud }, message);
  }
}
