/**
 * Create/Get/List/Update/Delete of each resource of dcm.v1, from the very CRUD spec its REST
 * routes are declared with: the same zod schemas, services and views.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { createClusterQuotaService } from '../features/cluster-quotas/cluster-quota.service.js';
import { clusterQuotaCrud } from '../features/cluster-quotas/cluster-quota.router.js';
import { overallQuotaCrud } from '../features/overall-quotas/overall-quota.router.js';
import type { OverallQuotaService } from '../features/overall-quotas/overall-quota.service.js';
import type { createClusterReferenceService } from '../features/cluster-references/cluster-reference.service.js';
import { clusterReferenceCrud } from '../features/cluster-references/cluster-reference.router.js';
import type { createKvPairService } from '../features/kv-pairs/kv-pair.service.js';
import { kvPairCrud } from '../features/kv-pairs/kv-pair.router.js';
import type { LogicalCloudService } from '../features/logical-clouds/logical-cloud.service.js';
import { logicalCloudCrud } from '../features/logical-clouds/logical-cloud.router.js';
import type { createPermissionService } from '../features/user-permissions/user-permission.service.js';
import { permissionCrud } from '../features/user-permissions/user-permission.router.js';
import type { CrudSpec, Params } from '../http/crud-routes.js';
import { parsePage } from '../http/pagination.js';
import { parseInput } from '../http/validation.js';
import { fromStruct, toStruct, type ProtoStruct } from './struct.js';
import { LOGICAL_CLOUD_FIELDS, requireFields, type Request, type Unary } from './unary.js';

interface PageMessage {
  limit: number;
  offset: number;
}
interface ResourceMessage {
  name: string;
  revision: number;
  body: ProtoStruct;
}

/** The services behind the CRUD resources. */
export interface CrudServices {
  logicalClouds: LogicalCloudService;
  clusterReferences: ReturnType<typeof createClusterReferenceService>;
  permissions: ReturnType<typeof createPermissionService>;
  clusterQuotas: ReturnType<typeof createClusterQuotaService>;
  overallQuotas: OverallQuotaService;
  kvPairs: ReturnType<typeof createKvPairService>;
}

const pageOf = (page: PageMessage | null | undefined) =>
  parsePage({ limit: page?.limit ? page.limit : undefined, offset: page?.offset ? page.offset : undefined }, 'page');

const resource = (name: string, revision: number, body: unknown): ResourceMessage => ({
  name,
  revision,
  body: toStruct(body),
});

/** Create/Get/List/Update/Delete of one resource, from the CRUD spec its REST routes are declared with. */
function crud<C, U, R extends { name: string; revision: number }>(
  unary: Unary,
  names: { noun: string; plural: string },
  spec: CrudSpec<C, U, R>,
  params: (request: Request) => Params,
  scopeFields: string[],
): UntypedServiceImplementation {
  const { noun, plural } = names;
  const view = (record: R, p: Params) => resource(record.name, record.revision, spec.view(record, p));
  const named = [...scopeFields, 'name'];
  type Write = Request & { body: ProtoStruct | null };
  return {
    [`Create${noun}`]: unary(`Create${noun}`, async (request: Write, caller) => {
      requireFields(request, scopeFields);
      const input = parseInput(spec.createSchema, fromStruct(request.body), 'body');
      return view(await spec.create(params(request), input, caller), params(request));
    }),
    [`Get${noun}`]: unary(`Get${noun}`, async (request: Request) => {
      requireFields(request, named);
      return view(await spec.get(params(request), request.name as string), params(request));
    }),
    [`List${plural}`]: unary(`List${plural}`, async (request: Request & { page: PageMessage | null }) => {
      requireFields(request, scopeFields);
      const { items, total } = await spec.list(params(request), pageOf(request.page));
      return { items: items.map((item) => view(item, params(request))), total };
    }),
    [`Update${noun}`]: unary(`Update${noun}`, async (request: Write & { expected_revision: number }, caller) => {
      requireFields(request, named);
      const input = parseInput(spec.updateSchema, fromStruct(request.body), 'body');
      const revision = request.expected_revision > 0 ? request.expected_revision : undefined;
      const record = await spec.update(params(request), request.name as string, input, revision, caller);
      return view(record, params(request));
    }),
    [`Delete${noun}`]: unary(`Delete${noun}`, async (request: Request, caller) => {
      requireFields(request, named);
      await spec.delete(params(request), request.name as string, caller);
      return {};
    }),
  };
}

const projectParams = (r: Request): Params => ({ project: r.project as string });
const childParams = (r: Request): Params => ({
  project: r.project as string,
  logicalCloud: r.logical_cloud as string,
});

/** The CRUD methods of every resource of dcm.v1. */
export function crudHandlers(unary: Unary, services: CrudServices): UntypedServiceImplementation {
  const child = LOGICAL_CLOUD_FIELDS;
  return {
    ...crud(
      unary,
      { noun: 'LogicalCloud', plural: 'LogicalClouds' },
      logicalCloudCrud(services.logicalClouds),
      projectParams,
      ['project'],
    ),
    ...crud(
      unary,
      { noun: 'ClusterReference', plural: 'ClusterReferences' },
      clusterReferenceCrud(services.clusterReferences),
      childParams,
      child,
    ),
    ...crud(
      unary,
      { noun: 'UserPermission', plural: 'UserPermissions' },
      permissionCrud(services.permissions),
      childParams,
      child,
    ),
    ...crud(
      unary,
      { noun: 'ClusterQuota', plural: 'ClusterQuotas' },
      clusterQuotaCrud(services.clusterQuotas),
      childParams,
      child,
    ),
    ...crud(
      unary,
      { noun: 'OverallQuota', plural: 'OverallQuotas' },
      overallQuotaCrud(services.overallQuotas),
      childParams,
      child,
    ),
    ...crud(unary, { noun: 'KvPair', plural: 'KvPairs' }, kvPairCrud(services.kvPairs), childParams, child),
  };
}
