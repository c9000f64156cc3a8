/** Logical clouds (with their inline user permissions and namespace claims), with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { EventBus } from '../../jobs/event-bus.js';
import type { Described } from '../metadata.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import type { TopLevelService } from '../top-level.service.js';
import { declareLogicalCloudRoutes, logicalCloudCrud } from './logical-cloud.router.js';
import { LogicalCloudService, type LifecycleGuard, type LogicalCloudStores } from './logical-cloud.service.js';
import type { NamespaceClaimStore } from './namespace-claim.store.js';

export function createLogicalClouds(deps: {
  stores: LogicalCloudStores;
  projects: TopLevelService<Described>;
  policies: Pick<ProjectPolicyService, 'enforce' | 'allowedLabelPrefixes'>;
  namespaceClaims: NamespaceClaimStore;
  /** The lifecycle's rules (a provider: the lifecycle is built after the logical clouds). */
  guard: () => LifecycleGuard;
  events: Pick<EventBus, 'emit'>;
  reservedNamespaces?: readonly string[];
}) {
  const { stores, projects, policies, namespaceClaims, guard, events, reservedNamespaces } = deps;
  const service = new LogicalCloudService(
    stores,
    projects,
    policies,
    namespaceClaims,
    guard,
    events,
    reservedNamespaces,
  );
  return {
    service,
    crud: logicalCloudCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareLogicalCloudRoutes(router, registry, service),
  };
}
