/** Cluster quotas of a logical cloud, with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import { clusterQuotaCrud, declareClusterQuotaRoutes } from './cluster-quota.router.js';
import { createClusterQuotaService } from './cluster-quota.service.js';
import type { ClusterQuotaStore } from './cluster-quota.store.js';

export function createClusterQuotas(deps: {
  store: ClusterQuotaStore;
  logicalClouds: LogicalCloudResolver;
  guard: () => LifecycleGuard;
}) {
  const service = createClusterQuotaService(deps.store, deps.logicalClouds, deps.guard);
  return {
    service,
    crud: clusterQuotaCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareClusterQuotaRoutes(router, registry, service),
  };
}
