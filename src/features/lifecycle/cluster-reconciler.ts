/**
 * Works one cluster of one logical cloud (apply or remove, through the controllers' pipeline)
 * and writes that cluster's status document (a single upsert, see lifecycle-status.store.ts).
 * A cluster that cannot be reached, or whose kubeconfig does not load, fails alone.
 *
 * Operations (lifecycle-operations.ts) use it for each of their clusters; `reconcileCluster`
 * brings one cluster of an applied logical cloud back to what the DCM recorded, outside any
 * operation (drift repair).
 */
import { ClusterContext, type ClusterWork } from '../../controllers/cluster-context.js';
import { applyCluster, removeCluster, type Controllers } from '../../controllers/cluster-pipeline.js';
import { meshNotReady } from '../../controllers/service-mesh.controller.js';
import { Unreachable } from '../../kubernetes/cluster-errors.js';
import type { ClusterGateway, ClusterGatewayProvider } from '../../kubernetes/cluster-gateway.js';
import type { TenantIdentity } from '../../domain/tenant-identity.js';
import type { ClusterRecord, ClusterSecrets, ClusterService } from '../cluster-registry/cluster.service.js';
import type { ClusterHealth } from '../cluster-registry/cluster-health.store.js';
import type { ClusterReferenceRecord, LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type { LogicalCloudStores } from '../logical-clouds/logical-cloud.service.js';
import { placementOf, samePlacement } from './cluster-placements.js';
import type { CredentialsStore } from './credentials.store.js';
import {
  boundedClusterStatus,
  type ClusterPlacement,
  type ClusterStatus,
  type LifecycleStatusStore,
} from './lifecycle-status.store.js';
import { isSettledApplied } from './preconditions.js';
import {
  refusedClusterStatus,
  withRefusedPermissions,
  type PolicyJudgement,
  type ReapplyPolicy,
} from './reapply-policy.js';
import { removeTenantIdentities, type RemovedIdentity } from './tenant-identities.js';

export interface ClusterReconcilerOptions {
  gateways: ClusterGatewayProvider;
  /** The clusters' last known health: an apply to a cluster found unreachable recently fails at once. */
  health?: { get(provider: string, cluster: string): Promise<ClusterHealth | undefined>; freshMs: number };
  /** The project's policy as it is now, obeyed by drift repair and by applies of a logical cloud not exempt from it (see reapply-policy.ts). */
  policy?: ReapplyPolicy;
}

/** What the clusters of a logical cloud are worked with: ClusterWork without the cluster itself. */
export type LogicalCloudWork = Omit<ClusterWork, 'reference' | 'cluster' | 'clusterSecrets'>;

/** A logical cloud's records, as one piece of work reads them. */
export interface LogicalCloudRecords {
  lc: LogicalCloudRecord;
  project: string;
  references: ClusterReferenceRecord[];
  permissions: LogicalCloudWork['permissions'];
  quotas: LogicalCloudWork['quotas'];
}

export interface ClusterOutcome {
  status: ClusterStatus;
  /** Certainly nothing was created there (the cluster was never reached, or refused the namespace). */
  nothingCreated: boolean;
  /** With `removeTenantIdentities`: what was removed (`Kind namespace/name`). */
  removedIdentities?: RemovedIdentity[];
}

export interface ReconcileOptions {
  /** Wraps the cluster's connection (e.g. to watch or count what the controllers do); the wrapped one is closed at the end. */
  wrapConnection?: (connection: ClusterGateway) => ClusterGateway;
  /** false: the status is computed and returned, not written (a check that only reports); default true. */
  writeStatus?: boolean;
  /** The cluster reference's record as already read (else it is read); undefined: there is none. */
  reference?: ClusterReferenceRecord | undefined;
  /** After the apply, remove the identities the tenant made in the namespace (a revocation that cleans up, see tenant-identities.ts). */
  removeTenantIdentities?: boolean;
}

export class ClusterReconciler {
  constructor(
    private readonly stores: Pick<
      LogicalCloudStores,
      'logicalClouds' | 'clusterReferences' | 'permissions' | 'clusterQuotas'
    >,
    private readonly clusters: Pick<ClusterService, 'get' | 'secretsOf'>,
    private readonly status: Pick<LifecycleStatusStore, 'get' | 'setClusters'>,
    private readonly credentials: Pick<CredentialsStore, 'summary' | 'removeCertificate'>,
    private readonly controllers: Controllers,
    private readonly options: ClusterReconcilerOptions,
  ) {}

  async loadRecords(logicalCloudId: string): Promise<LogicalCloudRecords | undefined> {
    const lc = await this.stores.logicalClouds.getById(logicalCloudId);
    if (!lc) return undefined;
    const scope = { logicalCloudId };
    const [references, permissions, quotas] = await Promise.all([
      this.stores.clusterReferences.list(scope),
      this.stores.permissions.list(scope),
      this.stores.clusterQuotas.list(scope),
    ]);
    return {
      lc,
      project: lc.scope.project!,
      references: references.items,
      permissions: permissions.items,
      quotas: quotas.items,
    };
  }

  /**
   * The tenant identity the clusters are worked with: the current credential generation, or a
   * new one when `wantedGeneration` names another or there is none yet (see UserController.prepare).
   */
  prepareTenant(
    project: string,
    lc: LogicalCloudRecord,
    wantedGeneration?: string,
  ): Promise<TenantIdentity | undefined> {
    return this.controllers.user.prepare(project, lc, wantedGeneration);
  }

  /** Works one cluster with the apply or remove pipeline; writes nothing. */
  async workCluster(
    work: LogicalCloudWork,
    placement: ClusterPlacement,
    kind: 'apply' | 'remove',
    options: ReconcileOptions = {},
  ): Promise<ClusterOutcome> {
    const base = { ...placement, resources: [], warnings: [] };
    const stored =
      'reference' in options
        ? options.reference
        : await this.stores.clusterReferences.get({ logicalCloudId: work.logicalCloud.id }, placement.reference);
    const reference = stored ?? {
      id: '',
      scope: { logicalCloudId: work.logicalCloud.id },
      name: placement.reference,
      revision: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
      data: {
        clusterProvider: placement.provider,
        cluster: placement.cluster,
        loadbalancerIp: '',
        description: '',
        userData1: '',
        userData2: '',
      },
    };
    let cluster: ClusterRecord;
    let clusterSecrets: ClusterSecrets;
    let connection: ClusterGateway;
    try {
      cluster = await this.clusters.get(placement.provider, placement.cluster);
      if (kind === 'apply') await this.refuseUnreachable(placement);
      clusterSecrets = this.clusters.secretsOf(cluster);
      // Loading the kubeconfig can fail too: that fails this cluster's entries, and nothing else.
      const connected = this.options.gateways.gatewayFor(cluster, clusterSecrets);
      connection = options.wrapConnection ? options.wrapConnection(connected) : connected;
    } catch (error) {
      const status: ClusterStatus = {
        ...base,
        state: kind === 'apply' ? 'Failed' : 'TerminateFailed',
        resources: [
          {
            category: 'namespace',
            kind: 'Cluster',
            name: placement.cluster,
            status: 'Failed',
            message: (error as Error).message,
          },
        ],
      };
      return { status, nothingCreated: true };
    }
    const ctx = new ClusterContext({ ...work, reference, cluster, clusterSecrets }, connection);
    ctx.thorough = options.wrapConnection !== undefined;
    let removedIdentities: RemovedIdentity[] | undefined;
    try {
      if (kind === 'apply') await applyCluster(this.controllers, ctx);
      else await removeCluster(this.controllers, ctx);
      if (kind === 'apply' && options.removeTenantIdentities) removedIdentities = await removeTenantIdentities(ctx);
    } finally {
      connection.close();
    }
    const failed = ctx.failed();
    const status: ClusterStatus = {
      ...base,
      state: kind === 'apply' ? (failed ? 'Failed' : 'Applied') : failed ? 'TerminateFailed' : 'Terminated',
      resources: ctx.resources,
      warnings: ctx.warnings,
    };
    return { status, nothingCreated: ctx.nothingCreated, ...(removedIdentities ? { removedIdentities } : {}) };
  }

  /** The project's policy as it is now over these records and clusters (undefined without a policy to obey). */
  judgePolicy(
    project: string,
    lc: LogicalCloudRecord,
    permissions: LogicalCloudWork['permissions'],
    placements: ClusterPlacement[],
  ): Promise<PolicyJudgement | undefined> {
    return this.options.policy
      ? this.options.policy.judge(project, lc, permissions, placements)
      : Promise.resolve(undefined);
  }

  /**
   * A cluster the policy no longer admits: not worked (no certificate issued, nothing restored),
   * its stored certificate forgotten (no kubeconfig for it, no renewal of it), Failed with the
   * reason. Writes nothing itself but the credential; answers the status to record.
   */
  async refuseCluster(logicalCloudId: string, placement: ClusterPlacement, reason: string): Promise<ClusterOutcome> {
    await this.credentials.removeCertificate(logicalCloudId, placement.reference);
    return { status: refusedClusterStatus(placement, reason), nothingCreated: false };
  }

  /** Writes one cluster's status: its own document, a single upsert. */
  writeStatus(logicalCloudId: string, status: ClusterStatus): Promise<void> {
    return this.status.setClusters(logicalCloudId, [status]);
  }

  /**
   * Applies one cluster of an applied logical cloud again, outside any operation (drift repair),
   * and writes that cluster's status document (unless `opts.writeStatus` is false); returns that
   * status (bounded as stored).
   *
   * The caller must hold the logical cloud's lease, through `OperationRunner.exclusive` (or
   * `LifecycleService.exclusive`): this method takes none, and nothing else may work the logical
   * cloud meanwhile. It works with the records as stored now and the tenant identity of the
   * CURRENT credential generation (it never starts a new one, so no new key and no new group).
   *
   * Answers undefined, touching nothing, when the logical cloud is gone, is not applied
   * (Instantiated or InstantiateFailed, no operation in progress), has no reference of that
   * name, the reference names a cluster the last apply did not place it on (only an apply may
   * add a cluster: a terminate cleans up only recorded placements), or its tenant has no current
   * credential generation. Only the cluster's document is written: the logical cloud's state and
   * the other clusters stay as they are. A cluster that cannot be reached is recorded Failed.
   * Unless the last explicit apply was an admin's (`policyExempt`), the project's policy as it is
   * now bounds the repair (reapply-policy.ts): a permission it no longer admits is removed, not
   * restored, and a cluster it no longer admits is not worked; either leaves the cluster Failed
   * with the policy's reason.
   */
  async reconcileCluster(
    logicalCloudId: string,
    reference: string,
    opts: ReconcileOptions = {},
  ): Promise<ClusterStatus | undefined> {
    const [records, doc] = await Promise.all([this.loadRecords(logicalCloudId), this.status.get(logicalCloudId)]);
    if (!records || !doc || !isSettledApplied(doc)) return undefined;
    const found = records.references.find((r) => r.name === reference);
    if (!found || !doc.placements.some((p) => samePlacement(p, placementOf(found)))) return undefined;
    const { lc, project } = records;
    if (lc.data.level === '1' && lc.data.user && (await this.credentials.summary(lc.id))?.generationId === undefined)
      return undefined;
    const placement = placementOf(found);
    // Unless an admin applied it last, the policy as it is now bounds the repair: nothing it no longer admits is restored.
    const judgement = doc.policyExempt
      ? undefined
      : await this.judgePolicy(project, lc, records.permissions, [placement]);
    const refusal = judgement?.clusterRefusal(placement);
    if (refusal) {
      const reported = opts.writeStatus === false;
      const status = reported
        ? refusedClusterStatus(placement, refusal)
        : (await this.refuseCluster(logicalCloudId, placement, refusal)).status;
      if (!reported) await this.writeStatus(logicalCloudId, status);
      return boundedClusterStatus(status);
    }
    const tenant = await this.prepareTenant(project, lc);
    const permissions = judgement?.admitted ?? records.permissions;
    const work: LogicalCloudWork = {
      project,
      logicalCloud: lc,
      permissions,
      quotas: records.quotas,
      ...(tenant ? { tenant } : {}),
    };
    const { status } = await this.workCluster(work, placement, 'apply', { ...opts, reference: found });
    // A declared Istio control plane that is not ready yet leaves the cluster not Applied (as an apply's outcome does).
    const outcome: ClusterStatus = withRefusedPermissions(
      status.state === 'Applied' && meshNotReady(status.resources) ? { ...status, state: 'Failed' } : status,
      judgement,
    );
    if (opts.writeStatus !== false) await this.writeStatus(logicalCloudId, outcome);
    return boundedClusterStatus(outcome);
  }

  /** An apply does not wait for a cluster timeout where the last probe (recent enough) found the cluster unreachable. */
  private async refuseUnreachable(placement: ClusterPlacement): Promise<void> {
    const health = this.options.health;
    const known = await health?.get(placement.provider, placement.cluster);
    if (!health || !known || known.reachable || Date.now() - known.checkedAt.getTime() > health.freshMs) return;
    throw new Unreachable(
      `cluster ${placement.cluster} is unreachable (probed ${known.checkedAt.toISOString()}: ${known.message ?? 'no answer'}); not tried`,
    );
  }
}
