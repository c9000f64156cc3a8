/** Cluster references of a logical cloud (which registered clusters it spans), with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { ClusterService } from '../cluster-registry/cluster.service.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { clusterReferenceCrud, declareClusterReferenceRoutes } from './cluster-reference.router.js';
import { createClusterReferenceService } from './cluster-reference.service.js';
import type { ClusterReferenceStore } from './cluster-reference.store.js';

export function createClusterReferences(deps: {
  store: ClusterReferenceStore;
  logicalClouds: LogicalCloudResolver;
  clusters: ClusterService;
  guard: () => LifecycleGuard;
  policies: Pick<ProjectPolicyService, 'enforce'>;
}) {
  const service = createClusterReferenceService(
    deps.store,
    deps.logicalClouds,
    deps.clusters,
    deps.guard,
    deps.policies,
  );
  return {
    service,
    crud: clusterReferenceCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareClusterReferenceRoutes(router, registry, service),
  };
}
