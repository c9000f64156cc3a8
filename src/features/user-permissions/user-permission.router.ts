/** The REST routes of user permissions, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { z } from 'zod';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import {
  PermissionCreateSchema,
  permissionInput,
  PermissionUpdateSchema,
  PermissionView,
  permissionView,
} from './user-permission.schema.js';
import type { PermissionService } from './user-permission.service.js';

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const permissionCrud = (permissions: PermissionService) =>
  crudSpec({
    tag: 'User permissions',
    noun: 'user permission',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/user-permissions',
    itemParam: 'permission',
    createSchema: PermissionCreateSchema,
    updateSchema: PermissionUpdateSchema,
    create: (p, body, caller) => {
      const input = permissionInput(body);
      return permissions.create(p.project!, p.logicalCloud!, input.name!, input, caller);
    },
    get: (p, name) => permissions.get(p.project!, p.logicalCloud!, name),
    list: (p, page) => permissions.list(p.project!, p.logicalCloud!, page),
    update: (p, name, body, revision, caller) => {
      const input = permissionInput(body);
      checkNameMatches(name, input.name, 'spec' in body ? 'metadata.name' : 'name');
      return permissions.update(p.project!, p.logicalCloud!, name, input, revision, caller);
    },
    delete: (p, name) => permissions.delete(p.project!, p.logicalCloud!, name),
    view: permissionView,
    listBody: (views) => ({ permissions: views }),
    viewSchema: PermissionView,
    listSchema: z.strictObject({ permissions: z.array(PermissionView) }),
    rules: {
      create:
        'Beyond the schema (400): `namespace` must be the logical cloud\'s namespace or "" (cluster-wide), a rule of stored state.',
      update:
        'Beyond the schema (400): `namespace` must be the logical cloud\'s namespace or "" (cluster-wide), a rule of stored state.',
    },
    examples: {
      create: { 'permission-3': { name: 'permission-3', apiGroups: [''], resources: ['jobs'], verbs: ['list'] } },
      update: { 'permission-3': { apiGroups: [''], resources: ['pvc'], verbs: ['list'] } },
    },
  });

export function declarePermissionRoutes(
  router: Router,
  registry: OpenApiRegistry,
  permissions: PermissionService,
): void {
  declareCrudRoutes(router, registry, permissionCrud(permissions));
}
