/**
 * Apply and terminate logical clouds on their clusters, report status, hand out the tenant's
 * kubeconfigs: the lifecycle's one entry point for REST, gRPC and jobs, a facade over its parts:
 *
 * - preconditions.ts: whether a request may proceed (pure);
 * - operation-runner.ts: the logical cloud's lease (claim, renewal, fencing), stops, `exclusive`;
 * - lifecycle-operations.ts: apply and terminate, recorded at once and run in the background;
 * - cluster-reconciler.ts: one cluster worked and its status written (also drift repair);
 * - interrupted-operations.job.ts: operations whose replica died, taken over;
 * - tenant-kubeconfig.ts: the tenant's kubeconfigs.
 *
 * Several replicas may share one database: a replica works a logical cloud's operation only
 * while it holds that logical cloud's lease (see lease-store.ts), renewing it as it goes.
 */
import type { Controllers } from '../../controllers/cluster-pipeline.js';
import type { Kubeconfig } from '../../kubeconfig/kubeconfig.js';
import { PolicyDeniedError } from '../../errors.js';
import type { LeaseStore } from '../../db/lease-store.js';
import type { Logger } from '../../logger.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type {
  LifecycleGuard,
  LogicalCloudService,
  LogicalCloudStores,
} from '../logical-clouds/logical-cloud.service.js';
import type { Caller, ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { enforceApplyPolicy } from './apply-policy-check.js';
import { placementOf } from './cluster-placements.js';
import { ClusterReconciler, type ReconcileOptions } from './cluster-reconciler.js';
import { ReapplyPolicy } from './reapply-policy.js';
import { newGenerationId, type CredentialsStore } from './credentials.store.js';
import { InterruptedOperationsJob } from './interrupted-operations.job.js';
import { LifecycleOperations } from './lifecycle-operations.js';
import type { LifecycleOptions } from './lifecycle-options.js';
import type { ClusterStatus, LifecycleState, LifecycleStatusStore } from './lifecycle-status.store.js';
import { readLogicalCloudStatus, type LogicalCloudStatus } from './logical-cloud-status.js';
import { OperationRunner } from './operation-runner.js';
import { checkApply, checkChange, checkKubeconfig, checkRevoke, checkStop, checkTerminate } from './preconditions.js';
import { TenantKubeconfigs } from './tenant-kubeconfig.js';

export { STATUS_TEXT } from './lifecycle-status.store.js';
export { MAX_PERMISSIONS } from './preconditions.js';
export type { LifecycleObserver } from './lifecycle-operations.js';

export interface OperationSummary {
  logicalCloud: LogicalCloudRecord;
  clusters: string[];
  quotas: string[];
  state: LifecycleState;
}

export class LifecycleService implements LifecycleGuard {
  readonly runner: OperationRunner;
  readonly reconciler: ClusterReconciler;
  private readonly operations: LifecycleOperations;
  private readonly interrupted: InterruptedOperationsJob;
  private readonly kubeconfigs: TenantKubeconfigs;

  constructor(
    private readonly logicalClouds: LogicalCloudService,
    private readonly stores: LogicalCloudStores,
    private readonly clusters: ClusterService,
    private readonly status: LifecycleStatusStore,
    private readonly credentials: CredentialsStore,
    leases: LeaseStore,
    private readonly policies: Pick<ProjectPolicyService, 'enforce' | 'get'>,
    controllers: Controllers,
    private readonly options: LifecycleOptions,
    logger: Logger,
  ) {
    const {
      replicaId,
      leaseTtlMs,
      stops,
      gateways,
      health,
      concurrency,
      operationsConcurrency,
      observer,
      tokenSeconds,
    } = options;
    this.runner = new OperationRunner(
      leases,
      { replicaId, leaseTtlMs, stops, ...(operationsConcurrency ? { maxRunning: operationsConcurrency } : {}) },
      logger,
    );
    const policy = new ReapplyPolicy(policies, clusters);
    this.reconciler = new ClusterReconciler(stores, clusters, status, credentials, controllers, {
      gateways,
      policy,
      ...(health ? { health } : {}),
    });
    this.operations = new LifecycleOperations(
      this.runner,
      this.reconciler,
      status,
      credentials,
      { concurrency, observer },
      logger,
    );
    this.interrupted = new InterruptedOperationsJob(
      status,
      this.runner,
      (doc) => this.operations.resume(doc),
      leaseTtlMs,
      logger,
    );
    this.kubeconfigs = new TenantKubeconfigs(stores.clusterReferences, clusters, status, credentials, {
      gateways,
      tokenSeconds,
    });
    options.events.on('logicalCloudDeleted', ({ logicalCloudId }) => this.forget(logicalCloudId));
    options.events.objectTo('clusterUnregistering', ({ provider, cluster }) => this.clusterInUse(provider, cluster));
  }

  // ---- guard used by the logical-cloud service ------------------------------------------

  async checkMutable(lc: LogicalCloudRecord, change: 'update' | 'delete' | 'identity'): Promise<void> {
    if (change === 'update') return;
    checkChange(lc, change, await this.status.get(lc.id));
  }

  /** Runs `work` holding the logical cloud's lease (see OperationRunner.exclusive); 409 while an operation runs. */
  exclusive<T>(lc: LogicalCloudRecord, work: () => Promise<T>): Promise<T> {
    return this.runner.exclusive(lc, work);
  }

  /** What the lifecycle keeps of a deleted logical cloud (status, credentials) goes with it. */
  private async forget(logicalCloudId: string): Promise<void> {
    await Promise.all([this.status.delete(logicalCloudId), this.credentials.delete(logicalCloudId)]);
  }

  /** Why the cluster cannot leave the registry: a logical cloud references it or may still hold objects on it. */
  private async clusterInUse(provider: string, cluster: string): Promise<string | undefined> {
    // A reference a cluster selector made goes with the cluster (the selection follows the registry).
    const references = await this.stores.clusterReferences.findWhere(
      {},
      { 'data.clusterProvider': provider, 'data.cluster': cluster, 'data.selected': { $ne: true } },
    );
    if (references.length > 0) return 'is referenced by a logical cloud; remove the reference first';
    const holding = await this.status.holdingCluster(provider, cluster);
    if (holding.length > 0)
      return `still holds objects of logical cloud ${holding.join(', ')}; terminate it (or re-apply it) first`;
    return undefined;
  }

  // ---- operations -----------------------------------------------------------------------

  /**
   * Applies the logical cloud. A non-admin caller's apply is checked against the project's
   * policy as a whole (a policy narrowed since the logical cloud was written is enforced here).
   * `credentialGeneration`: start that new credential generation (revocation); `removeTenantIdentities`:
   * also remove what the tenant made in its namespace (see tenant-identities.ts). `automatic`: an
   * apply nobody asked for (certificate renewal): not checked here, and it keeps whether the last
   * explicit apply was an admin's; either way, unless an admin's, the policy as it is then bounds
   * each cluster's work (see reapply-policy.ts).
   */
  async apply(
    project: string,
    name: string,
    caller: Caller,
    request: { credentialGeneration?: string; removeTenantIdentities?: boolean; automatic?: boolean } = {},
  ): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    this.runner.refuseWhileRunning(lc);
    const [references, permissions, quotas] = await Promise.all([
      this.stores.clusterReferences.list({ logicalCloudId: lc.id }),
      this.stores.permissions.list({ logicalCloudId: lc.id }),
      this.stores.clusterQuotas.list({ logicalCloudId: lc.id }),
    ]);
    checkApply(lc, {
      referenceCount: references.total,
      permissionCount: permissions.total,
      permissions: permissions.items,
    });
    if (!caller.admin && !request.automatic) {
      await enforceApplyPolicy(this.policies, this.clusters, caller, project, lc, references.items, permissions.items);
      const budgetRefusal = await this.options.overallQuotaRefusal?.(project, lc.id);
      if (budgetRefusal) throw new PolicyDeniedError(`denied by the policy of project ${project}: ${budgetRefusal}`);
    }
    const placements = references.items.map(placementOf);
    const doc = await this.operations.startApply(project, lc, placements, {
      ...(request.credentialGeneration ? { credentialGeneration: request.credentialGeneration } : {}),
      ...(request.removeTenantIdentities ? { removeTenantIdentities: true } : {}),
      policyExempt: request.automatic ? 'inherit' : caller.admin,
    });
    return {
      logicalCloud: lc,
      clusters: placements.map((p) => p.reference),
      quotas: quotas.items.map((q) => q.name),
      state: doc.state,
    };
  }

  async terminate(project: string, name: string): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    this.runner.refuseWhileRunning(lc);
    checkTerminate(lc, await this.status.get(lc.id));
    const doc = await this.operations.startTerminate(project, lc);
    return { logicalCloud: lc, clusters: doc.placements.map((p) => p.reference), quotas: [], state: doc.state };
  }

  /**
   * EMCO's stop: the operation under way starts no further cluster (those already being worked
   * finish); the clusters it did not reach end Failed ("stopped"), and so does the operation.
   */
  async stop(project: string, name: string): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    const doc = await this.status.get(lc.id);
    checkStop(lc, doc);
    await this.runner.requestStop(lc.id);
    return { logicalCloud: lc, clusters: doc.clusters.map((c) => c.reference), quotas: [], state: doc.state };
  }

  /**
   * Revocation without a CRL (Kubernetes checks none for client certificates): a new
   * credential generation (new key, new group) and a normal apply, which issues new
   * certificates on every cluster and moves every binding to the new group, so every earlier
   * kubeconfig stops working there. `removeTenantIdentities`: on every cluster, also remove the
   * identities the tenant made in its namespace (ServiceAccounts, their token Secrets, bindings
   * of accounts and users; see tenant-identities.ts), which a new generation alone leaves working.
   */
  async revokeCredentials(
    project: string,
    name: string,
    caller: Caller,
    options: { removeTenantIdentities?: boolean } = {},
  ): Promise<OperationSummary> {
    const lc = await this.logicalClouds.resolve(project, name);
    checkRevoke(lc, await this.status.get(lc.id));
    return this.apply(project, name, caller, {
      credentialGeneration: newGenerationId(),
      ...(options.removeTenantIdentities ? { removeTenantIdentities: true } : {}),
    });
  }

  async getStatus(project: string, name: string): Promise<LogicalCloudStatus> {
    const lc = await this.logicalClouds.resolve(project, name);
    return readLogicalCloudStatus(lc, this.status, this.credentials, this.options);
  }

  /** The tenant's kubeconfig for one cluster reference, or for every cluster with a credential. */
  async kubeconfig(project: string, name: string, reference?: string): Promise<Kubeconfig> {
    const lc = await this.logicalClouds.resolve(project, name);
    checkKubeconfig(lc);
    return this.kubeconfigs.build(lc, reference);
  }

  /** Drift repair: one cluster applied again under the caller's `exclusive` (see ClusterReconciler.reconcileCluster). */
  reconcileCluster(
    logicalCloudId: string,
    reference: string,
    opts?: ReconcileOptions,
  ): Promise<ClusterStatus | undefined> {
    return this.reconciler.reconcileCluster(logicalCloudId, reference, opts);
  }

  /** Resolves when the logical cloud's operation under way (if any) has finished. */
  async settled(project: string, name: string): Promise<void> {
    const lc = await this.logicalClouds.resolve(project, name);
    await this.runner.settled(lc.id);
  }

  /** Claims and resumes operations in progress that no replica works any more; returns how many it took over. */
  resumeInterrupted(): Promise<number> {
    return this.interrupted.resumeInterrupted();
  }

  /** How often the job registry looks for interrupted operations to take over (every half lease TTL). */
  get claimIntervalMs(): number {
    return this.interrupted.intervalMs;
  }

  /** Waits for every operation under way (graceful shutdown, tests). */
  idle(): Promise<void> {
    return this.runner.idle();
  }
}
