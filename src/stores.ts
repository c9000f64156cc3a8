/** The stores over MongoDB, one per collection family; the composition root makes them once and the services share them. */
import { LeaseStore } from './db/lease-store.js';
import { createClusterQuotaStore } from './features/cluster-quotas/cluster-quota.store.js';
import { ClusterReferenceStore } from './features/cluster-references/cluster-reference.store.js';
import { createClusterProviderStore } from './features/cluster-registry/cluster-provider.store.js';
import { createClusterStore } from './features/cluster-registry/cluster.store.js';
import { createClusterKvPairStore } from './features/cluster-registry/cluster-kv-pair.store.js';
import { createOverallQuotaStore } from './features/overall-quotas/overall-quota.store.js';
import { OverallQuotaAssignmentStore } from './features/overall-quotas/overall-quota-assignment.store.js';
import { createKvPairStore } from './features/kv-pairs/kv-pair.store.js';
import { createLogicalCloudStore } from './features/logical-clouds/logical-cloud.store.js';
import { createProjectStore } from './features/projects/project.store.js';
import { createUserPermissionStore } from './features/user-permissions/user-permission.store.js';
import { CredentialsStore } from './features/lifecycle/credentials.store.js';
import { LifecycleStatusStore } from './features/lifecycle/lifecycle-status.store.js';
import { DriftEventStore } from './features/drift/drift-events.store.js';
import { IntermediateCaStore } from './features/certificate-authority/intermediate-ca.store.js';
import { RootCaStore } from './features/certificate-authority/root-ca.store.js';
import { NamespaceClaimStore } from './features/logical-clouds/namespace-claim.store.js';
import { StopRequestStore } from './features/lifecycle/stop-requests.store.js';
import { ClusterHealthStore } from './features/cluster-registry/cluster-health.store.js';
import { ProjectPolicyStore } from './features/project-policies/project-policy.store.js';
import { ClusterSelectionStore } from './features/cluster-selection/cluster-selection.store.js';
import type { Db } from './db/mongo.js';
import type { SecretCipher } from './security/secret-cipher.js';

export function createStores(db: Db, cipher: SecretCipher) {
  return {
    projects: createProjectStore(db),
    clusterProviders: createClusterProviderStore(db),
    clusters: createClusterStore(db),
    clusterKvPairs: createClusterKvPairStore(db),
    logicalClouds: createLogicalCloudStore(db),
    permissions: createUserPermissionStore(db),
    clusterReferences: new ClusterReferenceStore(db),
    clusterQuotas: createClusterQuotaStore(db),
    kvPairs: createKvPairStore(db),
    overallQuotas: createOverallQuotaStore(db),
    overallQuotaAssignments: new OverallQuotaAssignmentStore(db),
    lifecycle: new LifecycleStatusStore(db),
    credentials: new CredentialsStore(db, cipher),
    leases: new LeaseStore(db),
    caRoot: new RootCaStore(db, cipher),
    caIntermediates: new IntermediateCaStore(db, cipher),
    projectPolicies: new ProjectPolicyStore(db),
    namespaceClaims: new NamespaceClaimStore(db),
    stopRequests: new StopRequestStore(db),
    clusterHealth: new ClusterHealthStore(db),
    driftEvents: new DriftEventStore(db),
    clusterSelections: new ClusterSelectionStore(db),
  };
}

export type Stores = ReturnType<typeof createStores>;
