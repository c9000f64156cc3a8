/** Key-value pairs stored with a logical cloud for other services to read; the lifecycle never uses them. */
import type { Router } from 'express';
import { z } from 'zod';
import type { NamedRecordStore } from '../../db/named-record-store.js';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-children.service.js';
import type { KvPairData, KvPairRecord, KvValue } from '../logical-clouds/logical-cloud.model.js';
import { atMost, boundedRecord, LIMITS } from '../../validation/limits.js';
import { describedFrom, MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';

const KvValueSchema = z.union([
  z.string().max(LIMITS.kvValueLength, atMost(LIMITS.kvValueLength, 'characters')),
  z.number(),
  z.boolean(),
  z.null(),
]);

const ONE_KEY = 'each entry is an object with exactly one key, e.g. {"key1": "val1"}';

/** One entry: its single key (checked before anything else) and its value. */
const KvEntry = boundedRecord(KvValueSchema, 1, 'key per entry, e.g. {"key1": "val1"}', LIMITS.kvKeyLength).refine(
  (entry) => Object.keys(entry).length === 1,
  { message: ONE_KEY },
)
  .refine((entry) => !Object.hasOwn(entry, ''), { message: 'a key is not empty' })
  .meta({ minProperties: 1, maxProperties: 1, propertyNames: { type: 'string', minLength: 1, maxLength: LIMITS.kvKeyLength } });

/** The design's list of single-key objects: `[{"key1": "val1"}, {"key2": "val2"}]`; a key appears once. Bounded (LIMITS). */
const KvList = z
  .array(KvEntry)
  .max(LIMITS.kvEntries, atMost(LIMITS.kvEntries, 'entries'))
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    entries.forEach((entry, i) => {
      for (const key of Object.keys(entry)) {
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, key], message: `key ${key} appears more than once` });
        seen.add(key);
      }
    });
  })
  .meta({ description: 'single-key objects; a key appears in one entry only' });

const KvSpec = z.strictObject({ kv: KvList });

export const KvPairCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: KvSpec });
export const KvPairUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: KvSpec });

type KvInput = z.infer<typeof KvPairUpdateSchema>;
export type KvPairService = LogicalCloudChildService<KvInput, KvPairData>;

export function createKvPairService(store: NamedRecordStore<KvPairData>, logicalClouds: LogicalCloudResolver): KvPairService {
  return new LogicalCloudChildService('KV pair', store, logicalClouds, {
    prepare: (_lc, input) => ({
      ...describedFrom(input.metadata),
      kv: input.spec.kv.flatMap((entry) => Object.entries(entry).map(([key, value]) => ({ key, value: value as KvValue }))),
    }),
  });
}

/** A kv pair's body. */
export const KvPairView = z.strictObject({
  metadata: MetadataView,
  spec: z.strictObject({ kv: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))) }),
});

export const kvPairView = (r: KvPairRecord) => ({
  metadata: metadataView(r.name, r.data),
  spec: { kv: r.data.kv.map(({ key, value }) => ({ [key]: value })) },
});

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const kvPairCrud = (kvPairs: KvPairService) =>
  crudSpec({
    tag: 'KV pairs',
    noun: 'kv pair',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/kv-pairs',
    itemParam: 'kvPair',
    createSchema: KvPairCreateSchema,
    updateSchema: KvPairUpdateSchema,
    create: (p, input, caller) => kvPairs.create(p.project!, p.logicalCloud!, input.metadata.name, input, caller),
    get: (p, name) => kvPairs.get(p.project!, p.logicalCloud!, name),
    list: (p, page) => kvPairs.list(p.project!, p.logicalCloud!, page),
    update: (p, name, input, revision, caller) => {
      checkNameMatches(name, input.metadata?.name);
      return kvPairs.update(p.project!, p.logicalCloud!, name, input, revision, caller);
    },
    delete: (p, name) => kvPairs.delete(p.project!, p.logicalCloud!, name),
    view: kvPairView,
    viewSchema: KvPairView,
    rules: { create: 'Beyond the schema (400): a key appears in one entry of `spec.kv` only.', update: 'Beyond the schema (400): a key appears in one entry of `spec.kv` only.' },
    examples: {
      create: { 'kv-1': { metadata: { name: 'kv-1', description: '<description>', userData1: '<user data>', userData2: '<user data>' }, spec: { kv: [{ key1: 'val1' }, { key2: 'val2' }] } } },
      update: { 'kv-1': { metadata: { description: '<description>', userData1: '<user data>', userData2: '<user data>' }, spec: { kv: [{ key1: 'val3' }, { key2: 'val4' }] } } },
    },
  });

export function declareKvPairRoutes(router: Router, registry: OpenApiRegistry, kvPairs: KvPairService): void {
  declareCrudRoutes(router, registry, kvPairCrud(kvPairs));
}
