/** Key-value pairs of a logical cloud, with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import { declareKvPairRoutes, kvPairCrud } from './kv-pair.router.js';
import { createKvPairService } from './kv-pair.service.js';
import type { KvPairStore } from './kv-pair.store.js';

export function createKvPairs(deps: { store: KvPairStore; logicalClouds: LogicalCloudResolver }) {
  const service = createKvPairService(deps.store, deps.logicalClouds);
  return {
    service,
    crud: kvPairCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareKvPairRoutes(router, registry, service),
  };
}
