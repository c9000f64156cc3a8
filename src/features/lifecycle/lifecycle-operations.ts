/**
 * The apply and terminate operations of a logical cloud: recorded in its status document first
 * (under its lease, see operation-runner.ts), then run in the background over its clusters in
 * parallel with bounded concurrency, each cluster worked and recorded by the ClusterReconciler
 * and failing only its own entries; at the end the operation's outcome is written. An operation
 * taken over from a replica that died runs again from the start: every step is safe to repeat.
 */
import { messageOf } from '../../controllers/cluster-context.js';
import { meshNotReady } from '../../controllers/service-mesh.controller.js';
import type { TenantIdentity } from '../../domain/tenant-identity.js';
import type { Logger } from '../../logger.js';
import type { ClusterReferenceRecord, LogicalCloudRecord } from '../logical-clouds/logical-cloud.model.js';
import { placementOf, samePlacement, type ClusterReconciler, type LogicalCloudRecords } from './cluster-reconciler.js';
import { withRefusedPermissions } from './reapply-policy.js';
import type { CredentialsStore } from './credentials.store.js';
import type { ClusterPlacement, ClusterStatus, LifecycleDocument, LifecycleStatusStore } from './lifecycle-status.store.js';
import type { OperationRunner } from './operation-runner.js';
import { checkTerminate } from './preconditions.js';

/** Told how long each cluster of an operation took and how it ended (metrics). */
export interface LifecycleObserver {
  clusterFinished(event: { kind: 'apply' | 'terminate'; provider: string; cluster: string; outcome: 'success' | 'failure'; seconds: number }): void;
  operationFinished(event: { kind: 'apply' | 'terminate'; outcome: 'success' | 'failure'; seconds: number; clusters: number }): void;
}

export interface LifecycleOperationsOptions {
  /** Clusters worked at once per operation. */
  concurrency: number;
  observer?: LifecycleObserver | undefined;
}

/** What a new apply records beside its clusters. */
export interface ApplyRequest {
  /** Start this new credential generation (a revocation). */
  credentialGeneration?: string;
  /** Also remove the identities the tenant made in its namespace (a revocation that cleans up). */
  removeTenantIdentities?: boolean;
  /** An explicit apply: whether its caller is an admin; `inherit`: an automatic one (renewal) keeps what the last explicit apply recorded. */
  policyExempt: boolean | 'inherit';
}

/** Objects an audit line names at most (the rest are counted). */
const AUDITED_OBJECTS = 100;

/** Resource and warning lines per cluster kept when an operation that broke off is recorded. */
const RECORDED_LINES = 20;

/** Works the items, at most `limit` at a time; stops taking new ones once `stop()` says so. */
async function mapWithConcurrency<T>(items: T[], limit: number, work: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, async () => {
    for (let item = queue.shift(); item !== undefined && !stop(); item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

export class LifecycleOperations {
  /** The audit trail (as src/observability/audit.ts writes it): what a revocation removed that the tenant had made. */
  private readonly audit: Logger;

  constructor(
    private readonly runner: OperationRunner,
    private readonly reconciler: ClusterReconciler,
    private readonly status: LifecycleStatusStore,
    private readonly credentials: Pick<CredentialsStore, 'delete'>,
    private readonly options: LifecycleOperationsOptions,
    private readonly logger: Logger,
  ) {
    // Audit lines are written at info also when the service logs only warnings; silent stays silent.
    const level = logger.level === 'silent' || logger.levelVal <= 30 ? logger.level : 'info';
    this.audit = logger.child({ name: 'audit', audit: true }, { level });
  }

  /** Records an apply of the logical cloud onto the references' clusters and starts it. */
  async startApply(project: string, lc: LogicalCloudRecord, placements: ClusterPlacement[], request: ApplyRequest): Promise<LifecycleDocument> {
    const { credentialGeneration, removeTenantIdentities } = request;
    await this.runner.claim(lc);
    const previous = await this.status.get(lc.id);
    const doc: LifecycleDocument = {
      _id: lc.id,
      project,
      logicalCloud: lc.name,
      state: 'Instantiating',
      operation: {
        kind: 'apply',
        inProgress: true,
        requestedAt: new Date(),
        ...(credentialGeneration ? { credentialGeneration } : {}),
        ...(removeTenantIdentities ? { removeTenantIdentities: true } : {}),
      },
      clusters: placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
      policyExempt: request.policyExempt === 'inherit' ? previous?.policyExempt === true : request.policyExempt,
      // Until this apply is done, objects may be left where the previous one put them.
      placements: mergePlacements(previous?.placements ?? [], placements),
      heldBefore: previous?.placements ?? [],
    };
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
    const doc: LifecycleDocument = {
      ...previous!,
      state: 'Terminating',
      operation: { kind: 'terminate', inProgress: true, requestedAt: new Date() },
      clusters: previous!.placements.map((p) => ({ ...p, state: 'Pending', resources: [], warnings: [] })),
    };
    await this.recordOrRelease(doc);
    this.resume(doc);
    return doc;
  }

  /** Runs the recorded operation; this replica has just taken the logical cloud's lease. */
  resume(doc: LifecycleDocument): void {
    const run = doc.operation.kind === 'apply' ? () => this.runApply(doc.project, doc._id) : () => this.runTerminate(doc.project, doc._id);
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
    const judgement = doc.policyExempt ? undefined : await this.reconciler.judgePolicy(project, loaded.lc, loaded.permissions, current);
    const permissions = judgement?.admitted ?? loaded.permissions;
    const work = { project, logicalCloud: loaded.lc, permissions, quotas: loaded.quotas, ...(tenant ? { tenant } : {}) };
    const cleanUp = doc.operation.removeTenantIdentities === true;
    // A cluster no longer referenced is cleaned up (unless another reference now names it).
    const removed = doc.placements.filter((p) => !current.some((c) => c.provider === p.provider && c.cluster === p.cluster));
    // A cluster this apply added, on which it certainly created nothing, holds nothing of it.
    const heldBefore = doc.heldBefore ?? doc.placements;
    const holdsNothing = new Set<ClusterPlacement>();
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    const steps = [...current.map((p) => ({ p, kind: 'apply' as const })), ...removed.map((p) => ({ p, kind: 'remove' as const }))];
    const applying = (p: ClusterPlacement): ClusterStatus => ({ ...p, state: 'Applying', resources: [], warnings: [] });
    // The clusters worked first are marked Applying in one write; the others as they are taken up.
    // (A stop that comes meanwhile leaves them Applying, unworked: the outcome records them as not reached.)
    const halted = () => !this.runner.holds(logicalCloudId) || this.runner.stopping(logicalCloudId);
    const first = new Set(halted() ? [] : steps.slice(0, this.options.concurrency).filter((s) => s.kind === 'apply').map((s) => s.p));
    await this.status.setClusters(logicalCloudId, [...first].map(applying));
    await mapWithConcurrency(steps, this.options.concurrency, async ({ p, kind }) => {
      if (kind === 'apply' && !first.has(p)) await this.reconciler.writeStatus(logicalCloudId, applying(p));
      const refusal = kind === 'apply' ? judgement?.clusterRefusal(p) : undefined;
      const outcome = refusal
        ? await this.reconciler.refuseCluster(logicalCloudId, p, refusal)
        : await this.workCluster(work, p, kind, { reference: referenceOf(loaded, p), ...(kind === 'apply' && cleanUp ? { removeTenantIdentities: true } : {}) });
      if (!outcome || !this.runner.holds(logicalCloudId)) return;
      if (kind === 'apply' && !refusal) outcome.status = withRefusedPermissions(outcome.status, judgement);
      if (outcome.removedIdentities?.length) this.auditRemoved(project, loaded.lc.name, p, outcome.removedIdentities);
      if (kind === 'apply' && outcome.nothingCreated && !heldBefore.some((q) => samePlacement(p, q))) holdsNothing.add(p);
      if (kind === 'remove') {
        // A removed cluster that was cleaned up leaves the status; one that failed stays visible.
        if (outcome.status.state === 'Terminated') return;
        stillHolding.push(p);
      }
      await this.reconciler.writeStatus(logicalCloudId, outcome.status);
    }, halted);
    if (!this.runner.holds(logicalCloudId)) return; // the replica that took over writes the outcome
    const found = await this.status.get(logicalCloudId);
    if (!found) return;
    const { heldBefore: _done, ...final } = found; // only meaningful while the apply is under way
    const stopped = this.runner.stopping(logicalCloudId);
    // A cluster whose Istio control plane was declared but is still not ready is not Applied (its mesh-status says Pending).
    const clusters = (stopped ? final.clusters.map((c) => unreached(c, 'Failed')) : final.clusters).map((c) =>
      c.state === 'Applied' && meshNotReady(c.resources) ? { ...c, state: 'Failed' as const } : c,
    );
    const failed = clusters.some((c) => c.state === 'Failed' || c.state === 'TerminateFailed');
    await this.status.put(
      {
        ...final,
        clusters,
        state: failed ? 'InstantiateFailed' : 'Instantiated',
        operation: { ...final.operation, inProgress: false, finishedAt: new Date(), ...(stopped ? { stopped: true } : {}) },
        placements: [...current.filter((p) => !holdsNothing.has(p)), ...stillHolding],
      },
      found,
    );
    this.options.observer?.operationFinished({ kind: 'apply', outcome: failed ? 'failure' : 'success', seconds: (performance.now() - started) / 1000, clusters: current.length });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed }, 'apply finished');
  }

  private async runTerminate(project: string, logicalCloudId: string): Promise<void> {
    const loaded = await this.reconciler.loadRecords(logicalCloudId);
    const doc = await this.status.get(logicalCloudId);
    if (!loaded || !doc) return;
    const work = { project, logicalCloud: loaded.lc, permissions: loaded.permissions, quotas: loaded.quotas };
    const stillHolding: ClusterPlacement[] = [];
    const started = performance.now();
    await mapWithConcurrency(doc.placements, this.options.concurrency, async (p) => {
      await this.reconciler.writeStatus(logicalCloudId, { ...p, state: 'Terminating', resources: [], warnings: [] });
      const outcome = await this.workCluster(work, p, 'remove', { reference: referenceOf(loaded, p) });
      if (!outcome) return;
      if (outcome.status.state !== 'Terminated') stillHolding.push(p);
      await this.reconciler.writeStatus(logicalCloudId, outcome.status);
    }, () => !this.runner.holds(logicalCloudId) || this.runner.stopping(logicalCloudId));
    if (!this.runner.holds(logicalCloudId)) return;
    const final = await this.status.get(logicalCloudId);
    if (!final) return;
    // This credential generation is over: the next apply starts a new one (new key, new group),
    // so no certificate issued before the terminate is ever bound again.
    await this.credentials.delete(logicalCloudId);
    const stopped = this.runner.stopping(logicalCloudId);
    // Clusters a stop kept the terminate from reaching still hold the logical cloud's objects.
    if (stopped) for (const c of final.clusters) if (c.state === 'Pending') stillHolding.push({ reference: c.reference, provider: c.provider, cluster: c.cluster });
    await this.status.put(
      {
        ...final,
        clusters: stopped ? final.clusters.map((c) => unreached(c, 'TerminateFailed')) : final.clusters,
        state: stillHolding.length > 0 ? 'TerminateFailed' : 'Terminated',
        operation: { ...final.operation, inProgress: false, finishedAt: new Date(), ...(stopped ? { stopped: true } : {}) },
        placements: stillHolding,
      },
      final,
    );
    this.options.observer?.operationFinished({
      kind: 'terminate',
      outcome: stillHolding.length > 0 ? 'failure' : 'success',
      seconds: (performance.now() - started) / 1000,
      clusters: doc.placements.length,
    });
    this.logger.info({ project, logicalCloud: loaded.lc.name, failed: stillHolding.length > 0 }, 'terminate finished');
  }

  /** One audit line per cluster of a revocation that removed what the tenant had made there. */
  private auditRemoved(project: string, logicalCloud: string, p: ClusterPlacement, removed: string[]): void {
    this.audit.info(
      {
        event: 'tenant-identities-removed',
        project,
        logicalCloud,
        clusterReference: p.reference,
        cluster: `${p.provider}/${p.cluster}`,
        removed: removed.slice(0, AUDITED_OBJECTS),
        ...(removed.length > AUDITED_OBJECTS ? { removedOmitted: removed.length - AUDITED_OBJECTS } : {}),
      },
      `revocation removed ${removed.length} tenant-made object(s) on cluster ${p.provider}/${p.cluster}`,
    );
  }

  /**
   * An operation that broke off (its status could not be written, say) ends failed instead of
   * being taken over and broken off again on every replica. What is recorded is kept short: the
   * full record may be what could not be written.
   */
  private async endFailed(logicalCloudId: string, error: unknown): Promise<void> {
    if (!this.runner.holds(logicalCloudId)) return;
    const doc = await this.status.get(logicalCloudId);
    if (!doc?.operation.inProgress) return;
    const { kind } = doc.operation;
    const { heldBefore: _heldBefore, ...rest } = doc;
    const done = (state: ClusterStatus['state']) => state === 'Applied' || state === 'Terminated';
    await this.status.put({
      ...rest,
      state: kind === 'apply' ? 'InstantiateFailed' : 'TerminateFailed',
      operation: { ...doc.operation, inProgress: false, finishedAt: new Date(), error: `the ${kind} broke off: ${messageOf(error)}` },
      clusters: doc.clusters.map((c) => ({
        ...c,
        state: done(c.state) ? c.state : kind === 'apply' ? 'Failed' : 'TerminateFailed',
        resources: c.resources.slice(0, RECORDED_LINES),
        warnings: c.warnings.slice(0, RECORDED_LINES),
      })),
    });
  }

  /** Ends an apply that could not start on any cluster: every cluster Failed with the reason. */
  private async failApply(doc: LifecycleDocument, message: string): Promise<void> {
    if (!this.runner.holds(doc._id)) return;
    const { heldBefore, ...rest } = doc;
    await this.status.put({
      ...rest,
      state: 'InstantiateFailed',
      operation: { ...doc.operation, inProgress: false, finishedAt: new Date() },
      clusters: doc.clusters.map((c) => ({
        ...c,
        state: 'Failed',
        resources: [{ category: 'user-certificate', kind: 'Certificate', name: '', status: 'Failed', message }],
        warnings: [],
      })),
      placements: heldBefore ?? doc.placements,
    });
    this.logger.warn({ project: doc.project, logicalCloud: doc.logicalCloud }, message);
  }
}

/**
 * A cluster a stopped operation never worked (Pending, or marked Applying with the first ones but
 * not taken up): it ends in the operation's failed state, saying so.
 */
function unreached(c: ClusterStatus, state: 'Failed' | 'TerminateFailed'): ClusterStatus {
  if (c.state !== 'Pending' && c.state !== 'Applying') return c;
  const message = 'the operation was stopped before it reached this cluster';
  return { ...c, state, resources: [{ category: 'namespace', kind: 'Cluster', name: c.cluster, status: state === 'Failed' ? 'Failed' : 'DeleteFailed', message }] };
}

/** The reference record of a placement among the records the operation read (undefined: no longer referenced). */
function referenceOf(records: LogicalCloudRecords, p: ClusterPlacement): ClusterReferenceRecord | undefined {
  return records.references.find((r) => r.name === p.reference);
}

function mergePlacements(a: ClusterPlacement[], b: ClusterPlacement[]): ClusterPlacement[] {
  return [...a, ...b.filter((p) => !a.some((q) => samePlacement(p, q)))];
}
