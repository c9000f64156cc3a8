/**
 * Cluster references: a logical cloud's clusters. A reference names a registered cluster
 * (without a provider, an unambiguous name), is allowed by the project's policy, and names a
 * cluster no other reference of the logical cloud names.
 */
import { pairsToMap } from '../../db/named-record-store.js';
import type { ClusterReferenceData } from '../../domain/logical-cloud.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import type { ClusterReferenceInput } from './cluster-reference.schema.js';
import type { ClusterReferenceStore } from './cluster-reference.store.js';

export type ClusterReferenceService = LogicalCloudChildService<ClusterReferenceInput, ClusterReferenceData>;

export function createClusterReferenceService(
  store: ClusterReferenceStore,
  logicalClouds: LogicalCloudResolver,
  clusters: ClusterService,
  guard: () => LifecycleGuard,
  policies: Pick<ProjectPolicyService, 'enforce'>,
): ClusterReferenceService {
  /** The registered cluster a reference names; without a provider the name must be unambiguous. */
  const resolveCluster = async (clusterName: string, provider: string | undefined) => {
    if (provider) return clusters.get(provider, clusterName);
    const found = await clusters.findByName(clusterName);
    if (found.length === 0)
      throw new NotFoundError(`Cluster ${clusterName} is not registered with any cluster provider`);
    if (found.length > 1) {
      const providers = found.map((c) => c.scope.provider).join(', ');
      throw new ConflictError(
        `Cluster ${clusterName} is registered by several cluster providers (${providers}); name the cluster-provider`,
      );
    }
    return found[0]!;
  };

  return new LogicalCloudChildService<ClusterReferenceInput, ClusterReferenceData>(
    'Cluster reference',
    store,
    logicalClouds,
    {
      prepare: async (lc, input, name, caller) => {
        const cluster = await resolveCluster(input.cluster ?? name, input.clusterProvider);
        const clusterProvider = cluster.scope.provider!;
        await policies.enforce(caller, lc.scope.project!, {
          clusters: [{ provider: clusterProvider, name: cluster.name, labels: pairsToMap(cluster.data.labels) }],
        });
        const others = await store.findWhere(
          { logicalCloudId: lc.id },
          { 'data.clusterProvider': clusterProvider, 'data.cluster': cluster.name },
        );
        const other = others.find((r) => r.name !== name);
        if (other)
          throw new ConflictError(
            `Cluster ${cluster.name} is already referenced by ${other.name} in Logical Cloud ${lc.name}`,
          );
        return {
          description: input.description,
          userData1: input.userData1,
          userData2: input.userData2,
          clusterProvider,
          cluster: cluster.name,
          loadbalancerIp: input.loadbalancerIp,
        };
      },
      checkMutable: (lc) => guard().checkMutable(lc, 'update'),
      // The references a cluster selector made follow the selector alone (docs/cluster-selection.md).
      checkRecord: (lc, record, change) => {
        if (!record.data.selected || (change === 'delete' && record.data.orphaned)) return;
        throw new ConflictError(
          `Cluster reference ${record.name} was made by spec.clusterSelector of Logical Cloud ${lc.name} and follows ` +
            `it: change the selector (or the cluster's labels) instead of ${change === 'delete' ? 'deleting' : 'changing'} it`,
        );
      },
    },
  );
}
