import type { Router } from 'express';
import { z } from 'zod';
import type { StoredRecord } from '../../db/named-record-store.js';
import { checkNameMatches, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { describedFrom, MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema, type Described } from '../metadata.js';
import type { TopLevelService } from '../top-level.service.js';

export type ProjectData = Described;
export type ProjectService = TopLevelService<ProjectData>;

export const ProjectCreateSchema = z.strictObject({ metadata: MetadataSchema });
export const ProjectUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema });

export const ProjectView = z.strictObject({ metadata: MetadataView });

export const projectView = (p: StoredRecord<ProjectData>) => ({ metadata: metadataView(p.name, p.data) });

export function declareProjectRoutes(router: Router, registry: OpenApiRegistry, projects: ProjectService): void {
  declareCrudRoutes(router, registry, {
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
    examples: { create: { 'project-1': { metadata: { name: 'project-1', description: 'the project of the design' } } }, update: { 'project-1': { metadata: { description: 'changed' } } } },
  });
}
