/** Cluster quotas: a ResourceQuota `hard` map applied in the logical cloud's namespace on every cluster. */
import type { Router } from 'express';
import { z } from 'zod';
import { mapToPairs, pairsToMap, type NamedRecordStore } from '../../db/named-record-store.js';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { InvalidInputError } from '../../errors.js';
import { defaultsExceedingQuotas } from '../../validation/container-defaults.js';
import { quotaSpec } from '../../validation/kubernetes-rules.js';
import { LogicalCloudChildService, type LogicalCloudResolver } from '../logical-clouds/logical-cloud-children.service.js';
import type { ClusterQuotaData, ClusterQuotaRecord } from '../logical-clouds/logical-cloud.model.js';
import type { LifecycleGuard } from '../logical-clouds/logical-cloud.service.js';
import { describedFrom, MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';

export const ClusterQuotaCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: quotaSpec });
export const ClusterQuotaUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: quotaSpec });

type QuotaInput = z.infer<typeof ClusterQuotaUpdateSchema>;
export type ClusterQuotaService = LogicalCloudChildService<QuotaInput, ClusterQuotaData>;

export function createClusterQuotaService(
  store: NamedRecordStore<ClusterQuotaData>,
  logicalClouds: LogicalCloudResolver,
  guard: () => LifecycleGuard,
): ClusterQuotaService {
  return new LogicalCloudChildService('Cluster quota', store, logicalClouds, {
    prepare: (lc, input, name) => {
      // The logical cloud's own container defaults must fit in every one of its quotas (400 naming both).
      const problems = defaultsExceedingQuotas(lc.data.isolation?.containerDefaults, [{ name, hard: input.spec }]);
      if (problems.length > 0) {
        throw InvalidInputError.forFields(problems.map((p) => ({ field: 'spec', message: `${p.message}: the logical cloud's ${p.field} is more than this quota allows` })));
      }
      return { ...describedFrom(input.metadata), spec: mapToPairs(input.spec) };
    },
    checkMutable: (lc) => guard().checkMutable(lc, 'update'),
  });
}

/** A cluster quota's body: the `hard` map as given. */
export const ClusterQuotaView = z.strictObject({ metadata: MetadataView, spec: z.record(z.string(), z.string()) });

export const clusterQuotaView = (q: ClusterQuotaRecord) => ({
  metadata: metadataView(q.name, q.data),
  spec: pairsToMap(q.data.spec),
});

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const clusterQuotaCrud = (quotas: ClusterQuotaService) =>
  crudSpec({
    tag: 'Cluster quotas',
    noun: 'cluster quota',
    collectionPath: '/projects/:project/logical-clouds/:logicalCloud/cluster-quotas',
    itemParam: 'quota',
    createSchema: ClusterQuotaCreateSchema,
    updateSchema: ClusterQuotaUpdateSchema,
    create: (p, input, caller) => quotas.create(p.project!, p.logicalCloud!, input.metadata.name, input, caller),
    get: (p, name) => quotas.get(p.project!, p.logicalCloud!, name),
    list: (p, page) => quotas.list(p.project!, p.logicalCloud!, page),
    update: (p, name, input, revision, caller) => {
      checkNameMatches(name, input.metadata?.name);
      return quotas.update(p.project!, p.logicalCloud!, name, input, revision, caller);
    },
    delete: (p, name) => quotas.delete(p.project!, p.logicalCloud!, name),
    view: clusterQuotaView,
    viewSchema: ClusterQuotaView,
    rules: { create: 'Beyond the schema (400): two keys limiting the same resource (cpu and requests.cpu) and a value that overflows (1e400).', update: 'Beyond the schema (400): two keys limiting the same resource (cpu and requests.cpu) and a value that overflows (1e400).' },
    examples: {
      create: { 'quota-1': { metadata: { name: 'quota-1', description: 'desc' }, spec: { cpu: '400', memory: '1000Gi', pods: '500' } } },
      update: { 'quota-1': { metadata: { description: 'desc' }, spec: { cpu: '400', memory: '1000Gi', pods: '500' } } },
    },
  });

export function declareClusterQuotaRoutes(router: Router, registry: OpenApiRegistry, quotas: ClusterQuotaService): void {
  declareCrudRoutes(router, registry, clusterQuotaCrud(quotas));
}
