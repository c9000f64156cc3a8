/** The REST routes of logical clouds, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import {
  LogicalCloudCreateSchema,
  logicalCloudInput,
  LogicalCloudUpdateSchema,
  type LogicalCloudBody,
  type LogicalCloudCreateBody,
} from './logical-cloud.schema.js';
import type { LogicalCloudService, LogicalCloudView } from './logical-cloud.service.js';
import {
  DESIGN_LOGICAL_CLOUD,
  ISOLATED_LOGICAL_CLOUD,
  SELECTING_LOGICAL_CLOUD,
  logicalCloudView,
  LogicalCloudViewSchema,
} from './logical-cloud.view.js';

const keyed = (view: LogicalCloudView) => ({ ...view, name: view.record.name, revision: view.record.revision });

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const logicalCloudCrud = (logicalClouds: LogicalCloudService) =>
  crudSpec<LogicalCloudCreateBody, LogicalCloudBody, ReturnType<typeof keyed>>({
    tag: 'Logical clouds',
    noun: 'logical cloud',
    collectionPath: '/projects/:project/logical-clouds',
    itemParam: 'logicalCloud',
    createSchema: LogicalCloudCreateSchema,
    updateSchema: LogicalCloudUpdateSchema,
    create: async (p, body, caller) =>
      keyed(await logicalClouds.create(p.project!, body.metadata.name, logicalCloudInput(body), caller)),
    get: async (p, name) => keyed(await logicalClouds.get(p.project!, name)),
    list: async (p, page) => {
      const { items, total } = await logicalClouds.list(p.project!, page);
      return { items: items.map(keyed), total };
    },
    update: async (p, name, body, revision, caller) => {
      checkNameMatches(name, body.metadata?.name);
      return keyed(await logicalClouds.update(p.project!, name, logicalCloudInput(body), revision, caller));
    },
    delete: (p, name) => logicalClouds.delete(p.project!, name),
    view: logicalCloudView,
    viewSchema: LogicalCloudViewSchema,
    rules: {
      create:
        "Beyond the schema (400): `user-name` and `userName` must agree when both are given; an inline permission's " +
        'namespace must be the logical cloud\'s or "", and a namespaced one cannot name `namespaces`; isolation\'s ' +
        "container defaults must fit the logical cloud's quotas; label keys under kubernetes.io, k8s.io, istio.io " +
        "or dcm.onap.org are reserved unless the project's policy allows them. A namespace held by another logical " +
        'cloud or reserved is a 409.',
      update:
        "Beyond the schema (400): `user-name` and `userName` must agree when both are given; an inline permission's " +
        'namespace must be the logical cloud\'s or ""; label keys under kubernetes.io, k8s.io, istio.io or dcm.onap.org ' +
        "are reserved unless the project's policy allows them. A namespace held by another logical cloud or reserved " +
        'is a 409.',
    },
    examples: {
      create: {
        'lc-1': DESIGN_LOGICAL_CLOUD,
        'lc-isolated': ISOLATED_LOGICAL_CLOUD,
        'lc-edge': SELECTING_LOGICAL_CLOUD,
      },
      update: {
        'lc-1': { spec: DESIGN_LOGICAL_CLOUD.spec },
        'lc-isolated': { spec: ISOLATED_LOGICAL_CLOUD.spec },
        'lc-edge': { spec: SELECTING_LOGICAL_CLOUD.spec },
      },
    },
  });

export function declareLogicalCloudRoutes(
  router: Router,
  registry: OpenApiRegistry,
  logicalClouds: LogicalCloudService,
): void {
  declareCrudRoutes(router, registry, logicalCloudCrud(logicalClouds));
}
