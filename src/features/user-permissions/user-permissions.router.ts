import type { Router } from 'express';
import type { NamedRecordStore } from '../../db/named-record-store.js';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-children.service.js';
import type { PermissionData, PermissionRecord } from '../logical-clouds/logical-cloud.model.js';
import { checkNamespacedRule, checkPermissionNamespace, permissionNamespace, type LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import type { ProjectPolicyService } from '../project-policies/project-policy.service.js';
import { z } from 'zod';
import { PermissionCreateSchema, permissionInput, PermissionUpdateSchema, type PermissionInput } from './permission.schema.js';

export type PermissionService = LogicalCloudChildService<PermissionInput, PermissionData>;

export function createPermissionService(
  store: NamedRecordStore<PermissionData>,
  logicalClouds: LogicalCloudResolver,
  guard: () => LifecycleGuard,
  policies: Pick<ProjectPolicyService, 'enforce'>,
): PermissionService {
  return new LogicalCloudChildService('User permission', store, logicalClouds, {
    prepare: async (lc, input, name, caller) => {
      checkPermissionNamespace(lc.data.namespace, input.namespace, input.namespaceField);
      const data = {
        namespace: permissionNamespace(lc.data.namespace, input.namespace),
        apiGroups: input.apiGroups,
        resources: input.resources,
        verbs: input.verbs,
      };
      checkNamespacedRule(data.namespace, data, input.namespaceField.replace(/namespace$/, 'resources'));
      await policies.enforce(caller, lc.scope.project!, { permissions: [{ ...data, name }] });
      return data;
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}

const RuleView = { namespace: z.string(), apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) };

/** A user permission's body. */
export const PermissionView = z.strictObject({ name: z.string(), ...RuleView, metadata: z.strictObject({ name: z.string() }), spec: z.strictObject(RuleView) });

/** The design's flat shape plus EMCO's metadata/spec, so that both kinds of client read it. */
export const permissionView = (p: PermissionRecord) => ({
  name: p.name,
  namespace: p.data.namespace,
  apiGroups: p.data.apiGroups,
  resources: p.data.resources,
  verbs: p.data.verbs,
  metadata: { name: p.name },
  spec: { namespace: p.data.namespace, apiGroups: p.data.apiGroups, resources: p.data.resources, verbs: p.data.verbs },
});

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
    rules: { create: "Beyond the schema (400): `namespace` must be the logical cloud's namespace or \"\" (cluster-wide), a rule of stored state.", update: "Beyond the schema (400): `namespace` must be the logical cloud's namespace or \"\" (cluster-wide), a rule of stored state." },
    examples: { create: { 'permission-3': { name: 'permission-3', apiGroups: [''], resources: ['jobs'], verbs: ['list'] } }, update: { 'permission-3': { apiGroups: [''], resources: ['pvc'], verbs: ['list'] } } },
  });

export function declarePermissionRoutes(router: Router, registry: OpenApiRegistry, permissions: PermissionService): void {
  declareCrudRoutes(router, registry, permissionCrud(permissions));
}
