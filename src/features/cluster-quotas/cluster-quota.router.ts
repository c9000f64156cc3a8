/** The REST routes of cluster quotas, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { crudSpec, logicalCloudChildCrud, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import {
  ClusterQuotaCreateSchema,
  ClusterQuotaUpdateSchema,
  ClusterQuotaView,
  clusterQuotaView,
} from './cluster-quota.schema.js';
import type { ClusterQuotaService } from './cluster-quota.service.js';

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const clusterQuotaCrud = (quotas: ClusterQuotaService) =>
  crudSpec({
    tag: 'Cluster quotas',
    noun: 'cluster quota',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/cluster-quotas',
    itemParam: 'quota',
    createSchema: ClusterQuotaCreateSchema,
    updateSchema: ClusterQuotaUpdateSchema,
    ...logicalCloudChildCrud(quotas),
    view: clusterQuotaView,
    viewSchema: ClusterQuotaView,
    rules: {
      create:
        'Beyond the schema (400): two keys limiting the same resource (cpu and requests.cpu) and a value that overflows (1e400).',
      update:
        'Beyond the schema (400): two keys limiting the same resource (cpu and requests.cpu) and a value that overflows (1e400).',
    },
    examples: {
      create: {
        'quota-1': {
          metadata: { name: 'quota-1', description: 'desc' },
          spec: { cpu: '400', memory: '1000Gi', pods: '500' },
        },
      },
      update: { 'quota-1': { metadata: { description: 'desc' }, spec: { cpu: '400', memory: '1000Gi', pods: '500' } } },
    },
  });

export function declareClusterQuotaRoutes(
  router: Router,
  registry: OpenApiRegistry,
  quotas: ClusterQuotaService,
): void {
  declareCrudRoutes(router, registry, clusterQuotaCrud(quotas));
}
