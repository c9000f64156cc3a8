/**
 * The project's policy as it is now, for the applies nobody asked for just then: certificate
 * renewal and drift repair (and any apply of a logical cloud whose last explicit apply was not an
 * admin's, see LifecycleDocument.policyExempt). An admin who narrows a policy gets it obeyed by
 * them exactly as a non-admin apply would be (ProjectPolicyService.get + boundaryRefusal over the
 * logical cloud's level and isolation, permissions and clusters), but per part, so that what the
 * policy still admits keeps working:
 *
 * - a permission it no longer admits is not applied: its objects are removed from the cluster
 *   (the RBAC reconcile prunes what is not desired) and the cluster is Failed with the reason;
 * - a cluster it no longer admits is not worked at all (no certificate is issued there, the
 *   stored one is forgotten) and is Failed with the reason;
 * - a refusal of the logical cloud itself (its level, its isolation…) or of anything not broken
 *   down here refuses every cluster.
 *
 * Nothing refused is ever restored until the policy admits it again.
 */
import type { ResourceStatus } from '../../controllers/cluster-context.js';
import { pairsToMap } from '../../db/named-record-store.js';
import type { PermissionRecord } from '../../domain/logical-cloud.js';
import { NotFoundError } from '../../errors.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import {
  boundaryRefusal,
  logicalCloudBoundary,
  type ProjectPolicyService,
} from '../project-policies/project-policy.service.js';
import type { ClusterPlacement, ClusterStatus } from './lifecycle-status.store.js';

export interface PolicyJudgement {
  /** The permissions the policy admits: the clusters are worked with these only. */
  admitted: PermissionRecord[];
  /** The permissions it does not admit, each with the policy's reason. */
  refused: { permission: string; reason: string }[];
  /** Why the logical cloud may not be applied on the cluster at all (it is then not worked), or undefined. */
  clusterRefusal(placement: ClusterPlacement): string | undefined;
}

const placementKey = (p: ClusterPlacement) => `${p.provider}/${p.cluster}`;

export class ReapplyPolicy {
  constructor(
    private readonly policies: Pick<ProjectPolicyService, 'get'>,
    private readonly clusters: Pick<ClusterService, 'get'>,
  ) {}

  /** Judges the logical cloud's records on these clusters against the project's policy as stored now. */
  async judge(
    project: string,
    lc: LogicalCloudRecord,
    permissions: PermissionRecord[],
    placements: ClusterPlacement[],
  ): Promise<PolicyJudgement> {
    const { policy } = await this.policies.get(project);
    const asked = permissions.map((p) => ({ record: p, requested: { ...p.data, name: p.name } }));
    const clusters = await Promise.all(
      placements.map(async (p) => ({ placement: p, cluster: await this.policyCluster(p) })),
    );
    const own = logicalCloudBoundary(lc.data);
    const denied = (refusal: string) => `denied by the policy of project ${project} as it is now: ${refusal}`;
    if (
      !boundaryRefusal(policy, {
        ...own,
        permissions: asked.map((a) => a.requested),
        clusters: clusters.map((c) => c.cluster),
      })
    ) {
      return { admitted: permissions, refused: [], clusterRefusal: () => undefined };
    }
    const admitted: PermissionRecord[] = [];
    const refused: PolicyJudgement['refused'] = [];
    for (const { record, requested } of asked) {
      const refusal = boundaryRefusal(policy, { permissions: [requested] });
      if (refusal) refused.push({ permission: record.name, reason: denied(refusal) });
      else admitted.push(record);
    }
    const byCluster = new Map<string, string>();
    for (const { placement, cluster } of clusters) {
      const refusal = boundaryRefusal(policy, { clusters: [cluster] });
      if (refusal) byCluster.set(placementKey(placement), denied(refusal));
    }
    // What is left once the refused parts are taken out must pass as a whole; if not, nothing is applied anywhere.
    const rest = boundaryRefusal(policy, {
      ...own,
      permissions: admitted.map((p) => ({ ...p.data, name: p.name })),
      clusters: clusters.filter((c) => !byCluster.has(placementKey(c.placement))).map((c) => c.cluster),
    });
    const everywhere = rest === undefined ? undefined : denied(rest);
    return { admitted, refused, clusterRefusal: (p) => everywhere ?? byCluster.get(placementKey(p)) };
  }

  /** The cluster as the policy judges it; one no longer registered by its names alone (the apply then fails it). */
  private async policyCluster(p: ClusterPlacement) {
    const cluster = await this.clusters.get(p.provider, p.cluster).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    return { provider: p.provider, name: p.cluster, labels: pairsToMap(cluster?.data.labels ?? []) };
  }
}

/** A cluster the policy does not admit: not worked, Failed with the policy's reason. */
export function refusedClusterStatus(p: ClusterPlacement, reason: string): ClusterStatus {
  return {
    ...p,
    state: 'Failed',
    resources: [
      { category: 'namespace', kind: 'Cluster', name: p.cluster, status: 'Failed', message: `not applied: ${reason}` },
    ],
    warnings: [],
  };
}

/** A worked cluster's status with a Failed line for each permission the policy does not admit (whose objects were removed). */
export function withRefusedPermissions(status: ClusterStatus, judgement: PolicyJudgement | undefined): ClusterStatus {
  if (!judgement || judgement.refused.length === 0) return status;
  const lines: ResourceStatus[] = judgement.refused.map((r) => ({
    category: 'role',
    kind: 'Permission',
    name: r.permission,
    status: 'Failed',
    message: `not applied, its objects removed: ${r.reason}`,
  }));
  return {
    ...status,
    state: status.state === 'Applied' ? 'Failed' : status.state,
    resources: [...lines, ...status.resources],
  };
}
