/** User permissions of a logical cloud, with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { LogicalCloudResolver } from '../logical-clouds/logical-cloud-child.service.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { declarePermissionRoutes, permissionCrud } from './user-permission.router.js';
import { createPermissionService } from './user-permission.service.js';
import type { UserPermissionStore } from './user-permission.store.js';

export function createUserPermissions(deps: {
  store: UserPermissionStore;
  logicalClouds: LogicalCloudResolver;
  guard: () => LifecycleGuard;
  policies: Pick<ProjectPolicyService, 'enforce'>;
}) {
  const service = createPermissionService(deps.store, deps.logicalClouds, deps.guard, deps.policies);
  return {
    service,
    crud: permissionCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declarePermissionRoutes(router, registry, service),
  };
}
