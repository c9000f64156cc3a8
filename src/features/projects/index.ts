/** Projects: the tenants' top-level records, which hold logical clouds; with their REST routes. */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { declareProjectRoutes, projectCrud } from './project.router.js';
import { createProjectService } from './project.service.js';
import type { ProjectStore } from './project.store.js';

export function createProjects(deps: { store: ProjectStore; hasLogicalClouds: (project: string) => Promise<boolean> }) {
  const service = createProjectService(deps.store, deps.hasLogicalClouds);
  return {
    service,
    crud: projectCrud(service),
    routes: (router: Router, registry: OpenApiRegistry) => declareProjectRoutes(router, registry, service),
  };
}
