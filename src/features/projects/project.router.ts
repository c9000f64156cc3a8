/** The REST routes of projects, as data (a CrudSpec). */
import type { Router } from 'express';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { describedFrom } from '../metadata.js';
import { ProjectCreateSchema, ProjectUpdateSchema, ProjectView, projectView } from './project.schema.js';
import type { ProjectService } from './project.service.js';

export const projectCrud = (projects: ProjectService) =>
  crudSpec({
    tag: 'Projects',
    noun: 'project',
    collectionPath: '/projects',
    itemParam: 'project',
    createSchema: ProjectCreateSchema,
    updateSchema: ProjectUpdateSchema,
    create: (_p, input) => projects.create(input.metadata.name, describedFrom(input.metadata)),
    get: (_p, name) => projects.get(name),
    list: (_p, page) => projects.list(page),
    update: (_p, name, input, revision) => {
      checkNameMatches(name, input.metadata.name);
      return projects.update(name, describedFrom(input.metadata), revision);
    },
    delete: (_p, name) => projects.delete(name),
    view: projectView,
    viewSchema: ProjectView,
    examples: {
      create: { 'project-1': { metadata: { name: 'project-1', description: 'the project of the design' } } },
      update: { 'project-1': { metadata: { description: 'changed' } } },
    },
  });

export function declareProjectRoutes(router: Router, registry: OpenApiRegistry, projects: ProjectService): void {
  declareCrudRoutes(router, registry, projectCrud(projects));
}
