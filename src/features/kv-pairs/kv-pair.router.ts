/** The REST routes of key-value pairs, as data (a CrudSpec): the gRPC API serves the same spec. */
import type { Router } from 'express';
import { crudSpec, logicalCloudChildCrud, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { KvPairCreateSchema, KvPairUpdateSchema, KvPairView, kvPairView } from './kv-pair.schema.js';
import type { KvPairService } from './kv-pair.service.js';

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const kvPairCrud = (kvPairs: KvPairService) =>
  crudSpec({
    tag: 'KV pairs',
    noun: 'kv pair',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/kv-pairs',
    itemParam: 'kvPair',
    createSchema: KvPairCreateSchema,
    updateSchema: KvPairUpdateSchema,
    ...logicalCloudChildCrud(kvPairs),
    view: kvPairView,
    viewSchema: KvPairView,
    rules: {
      create: 'Beyond the schema (400): a key appears in one entry of `spec.kv` only.',
      update: 'Beyond the schema (400): a key appears in one entry of `spec.kv` only.',
    },
    examples: {
      create: {
        'kv-1': {
          metadata: { name: 'kv-1', description: '<description>', userData1: '<user data>', userData2: '<user data>' },
          spec: { kv: [{ key1: 'val1' }, { key2: 'val2' }] },
        },
      },
      update: {
        'kv-1': {
          metadata: { description: '<description>', userData1: '<user data>', userData2: '<user data>' },
          spec: { kv: [{ key1: 'val3' }, { key2: 'val4' }] },
        },
      },
    },
  });

export function declareKvPairRoutes(router: Router, registry: OpenApiRegistry, kvPairs: KvPairService): void {
  declareCrudRoutes(router, registry, kvPairCrud(kvPairs));
}
