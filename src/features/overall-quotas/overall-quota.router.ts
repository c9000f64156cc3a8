/** The REST routes of overall quotas, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { crudSpec, logicalCloudChildCrud, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import {
  OverallQuotaCreateSchema,
  OverallQuotaUpdateSchema,
  OverallQuotaView,
  overallQuotaView,
} from './overall-quota.schema.js';
import type { OverallQuotaService } from './overall-quota.service.js';

const RULES =
  'Beyond the schema (400): keys of static shares or reserve that are not keys of hard, shares of a key adding up to more than hard, ' +
  'static shares without "assignment": "static" (and static assignment without them), reserve with static assignment, ' +
  'two shares for one cluster reference, reserve × cluster references more than hard, two keys limiting the same resource, ' +
  "more than the project policy's maxOverall (project callers). 409 while the logical cloud is being applied or terminated.";

export const overallQuotaCrud = (quotas: OverallQuotaService) =>
  crudSpec({
    tag: 'Overall quotas',
    noun: 'overall quota',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/overall-quotas',
    itemParam: 'quota',
    createSchema: OverallQuotaCreateSchema,
    updateSchema: OverallQuotaUpdateSchema,
    ...logicalCloudChildCrud(quotas),
    view: overallQuotaView,
    viewSchema: OverallQuotaView,
    rules: { create: RULES, update: RULES },
    examples: {
      create: {
        dynamic: {
          metadata: { name: 'total' },
          spec: { hard: { pods: '40', 'requests.cpu': '64', 'requests.memory': '256Gi' }, reserve: { pods: '2' } },
        },
        static: {
          metadata: { name: 'fixed' },
          spec: {
            hard: { pods: '40' },
            assignment: 'static',
            static: [
              { 'cluster-reference': 'r1', hard: { pods: '30' } },
              { 'cluster-reference': 'r2', hard: { pods: '10' } },
            ],
          },
        },
      },
      update: {
        total: { metadata: { description: 'fleet budget' }, spec: { hard: { pods: '60', 'requests.cpu': '96' } } },
      },
    },
  });

export function declareOverallQuotaRoutes(
  router: Router,
  registry: OpenApiRegistry,
  quotas: OverallQuotaService,
): void {
  declareCrudRoutes(router, registry, overallQuotaCrud(quotas));
}
