import type { Router } from 'express';
import { z } from 'zod';
import { mapToPairs, pairsToMap, type StoredRecord } from '../../db/named-record-store.js';
import { checkNameMatches, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { privateKeyPemProblem } from '../../kubeconfig/kubeconfig.js';
import { atMost, boundedRecord, LIMITS } from '../../validation/limits.js';
import { describedFrom, MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema, type Described } from '../metadata.js';
import type { ClusterInput, ClusterProviderService, ClusterRecord, ClusterService } from './cluster.service.js';

/** A cluster's labels: at most 64, keys of 1..317 characters, values of at most 63. */
const Labels = boundedRecord(
  z.string().max(LIMITS.labelValueLength, atMost(LIMITS.labelValueLength, 'characters')),
  LIMITS.labels,
  'labels',
  LIMITS.labelKeyLength,
)
  .refine((labels) => !Object.hasOwn(labels, ''), { message: 'a label key is not empty' })
  .meta({
    maxProperties: LIMITS.labels,
    propertyNames: { type: 'string', minLength: 1, maxLength: LIMITS.labelKeyLength },
    additionalProperties: { type: 'string', maxLength: LIMITS.labelValueLength },
  });

/** The admin kubeconfig as YAML/JSON text, or that text base64-encoded. */
const KubeconfigText = z
  .string()
  .min(1, 'the admin kubeconfig of the cluster is required')
  .max(LIMITS.kubeconfigLength, { error: atMost(LIMITS.kubeconfigLength, 'characters'), abort: true })
  .transform((text) => {
    const trimmed = text.trim();
    if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && !trimmed.includes(':')) {
      const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
      if (decoded.includes('clusters')) return decoded;
    }
    return text;
  });

const ClusterSpec = z.strictObject({
  kubeconfig: KubeconfigText,
  labels: Labels.optional(),
  /** The cluster CA's key: one inline PEM private key, nothing else (checked again when it is used). */
  'ca-key': z
    .string()
    .max(LIMITS.caKeyLength, { error: atMost(LIMITS.caKeyLength, 'characters'), abort: true })
    .superRefine((text, ctx) => {
      const problem = privateKeyPemProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

export const ClusterProviderCreateSchema = z.strictObject({ metadata: MetadataSchema });
export const ClusterProviderUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema });
export const ClusterCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: ClusterSpec });
export const ClusterUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema, spec: ClusterSpec });

const clusterInput = (input: z.infer<typeof ClusterUpdateSchema>): ClusterInput => ({
  ...describedFrom(input.metadata),
  labels: mapToPairs(input.spec.labels),
  kubeconfig: input.spec.kubeconfig,
  ...(input.spec['ca-key'] ? { caKey: input.spec['ca-key'] } : {}),
});

/** A cluster provider's body. */
export const ClusterProviderView = z.strictObject({ metadata: MetadataView });

/** A cluster's body: never the kubeconfig or the CA key. */
export const ClusterView = z.strictObject({
  metadata: MetadataView,
  spec: z.strictObject({ 'cluster-provider': z.string(), server: z.string(), labels: z.record(z.string(), z.string()), 'has-ca-key': z.boolean() }),
});

/** Never the kubeconfig or the CA key: only what they say publicly. */
export const clusterView = (c: ClusterRecord, params: Record<string, string>) => ({
  metadata: metadataView(c.name, c.data),
  spec: {
    'cluster-provider': params.provider ?? c.scope.provider,
    server: c.data.server,
    labels: pairsToMap(c.data.labels),
    'has-ca-key': Boolean(c.data.secrets.caKey),
  },
});

export function declareClusterRegistryRoutes(
  router: Router,
  registry: OpenApiRegistry,
  providers: ClusterProviderService,
  clusters: ClusterService,
): void {
  declareCrudRoutes(router, registry, {
    tag: 'Cluster registry',
    noun: 'cluster provider',
    collectionPath: '/cluster-providers',
    itemParam: 'provider',
    createSchema: ClusterProviderCreateSchema,
    updateSchema: ClusterProviderUpdateSchema,
    create: (_p, input) => providers.create(input.metadata.name, describedFrom(input.metadata)),
    get: (_p, name) => providers.get(name),
    list: (_p, page) => providers.list(page),
    update: (_p, name, input, revision) => {
      checkNameMatches(name, input.metadata.name);
      return providers.update(name, describedFrom(input.metadata), revision);
    },
    delete: (_p, name) => providers.delete(name),
    view: (p: StoredRecord<Described>) => ({ metadata: metadataView(p.name, p.data) }),
    viewSchema: ClusterProviderView,
    examples: { create: { edge: { metadata: { name: 'edge', description: 'edge clusters' } } } },
  });

  declareCrudRoutes(router, registry, {
    tag: 'Cluster registry',
    noun: 'cluster',
    collectionPath: '/cluster-providers/:provider/clusters',
    itemParam: 'cluster',
    createSchema: ClusterCreateSchema,
    updateSchema: ClusterUpdateSchema,
    create: (p, input) => clusters.create(p.provider!, input.metadata.name, clusterInput(input)),
    get: (p, name) => clusters.get(p.provider!, name),
    list: (p, page) => clusters.list(p.provider!, page),
    update: (p, name, input, revision) => {
      checkNameMatches(name, input.metadata.name);
      return clusters.update(p.provider!, name, clusterInput(input), revision);
    },
    delete: (p, name) => clusters.delete(p.provider!, name),
    view: clusterView,
    viewSchema: ClusterView,
    rules: { create: 'Beyond the schema (400): `kubeconfig` must be a kubeconfig (YAML or JSON, or base64 of it) naming a cluster and a user; `ca-key` one unencrypted PEM private key.', update: 'Beyond the schema (400): `kubeconfig` must be a kubeconfig (YAML or JSON, or base64 of it) naming a cluster and a user; `ca-key` one unencrypted PEM private key.' },
    examples: { create: { 'cluster-1': { metadata: { name: 'cluster-1' }, spec: { kubeconfig: '<the admin kubeconfig, YAML or base64>', labels: { zone: 'east' } } } } },
  });
}
