/** Project policies (what a project's logical clouds may obtain), with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { ProjectService } from '../projects/project.service.js';
import { declareProjectPolicyRoutes } from './project-policy.router.js';
import { ProjectPolicyService } from './project-policy.service.js';
import type { ProjectPolicyStore } from './project-policy.store.js';

export function createProjectPolicies(deps: { store: ProjectPolicyStore; projects: ProjectService }) {
  const service = new ProjectPolicyService(deps.store, deps.projects);
  return {
    service,
    routes: (router: Router, registry: OpenApiRegistry) => declareProjectPolicyRoutes(router, registry, service),
  };
}
