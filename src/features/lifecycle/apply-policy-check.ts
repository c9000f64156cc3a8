/**
 * The check of an explicit apply by a non-admin caller against the project's policy as a whole:
 * the logical cloud's boundary, its permissions and the clusters it references (a policy narrowed
 * since the logical cloud was written is enforced here).
 */
import { NotFoundError } from '../../errors.js';
import { pairsToMap } from '../../db/named-record-store.js';
import type { ClusterReferenceRecord, LogicalCloudRecord, PermissionRecord } from '../../domain/logical-cloud.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import {
  logicalCloudBoundary,
  type Caller,
  type ProjectPolicyService,
} from '../project-policies/project-policy.service.js';

/** Throws the policy's refusal of the apply of `lc` with these references and permissions. */
export async function enforceApplyPolicy(
  policies: Pick<ProjectPolicyService, 'enforce'>,
  clusterService: Pick<ClusterService, 'get'>,
  caller: Caller,
  project: string,
  lc: LogicalCloudRecord,
  references: ClusterReferenceRecord[],
  permissions: PermissionRecord[],
): Promise<void> {
  // A cluster no longer registered is judged by its names alone (the apply then fails it).
  const clusters = await Promise.all(
    references.map(async (r) => {
      const cluster = await clusterService.get(r.data.clusterProvider, r.data.cluster).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      return {
        provider: r.data.clusterProvider,
        name: r.data.cluster,
        labels: pairsToMap(cluster?.data.labels ?? []),
      };
    }),
  );
  await policies.enforce(caller, project, {
    ...logicalCloudBoundary(lc.data),
    permissions: permissions.map((p) => ({ ...p.data, name: p.name })),
    clusters,
  });
}
