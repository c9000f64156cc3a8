/** A registered cluster as the APIs take it (admin kubeconfig, labels, CA key) and show it (never a secret). */
import { z } from 'zod';
import { mapToPairs, pairsToMap } from '../../db/named-record-store.js';
import { privateKeyPemProblem } from '../../kubeconfig/private-key-pem.js';
import { atMost, boundedRecord, LIMITS } from '../../validation/limits.js';
import { describedFrom, MetadataSchema, MetadataView, metadataView, UpdateMetadataSchema } from '../metadata.js';
import type { ClusterInput, ClusterRecord } from './cluster.service.js';

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

export const ClusterCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: ClusterSpec });
/**
 * PUT: labels, description and user data replace the stored ones; the kubeconfig and the CA key
 * are replaced only when given (a relabel sends no credential).
 */
export const ClusterUpdateSchema = z.strictObject({
  metadata: UpdateMetadataSchema,
  spec: ClusterSpec.extend({ kubeconfig: KubeconfigText.optional() }),
});

/** clm's multipart PUT: the metadata part of a body whose kubeconfig, if any, is the file part. */
export const ClusterPartUpdateSchema = ClusterUpdateSchema;

export const clusterInputOf = (input: z.infer<typeof ClusterPartUpdateSchema>): Omit<ClusterInput, 'kubeconfig'> => ({
  ...describedFrom(input.metadata),
  labels: mapToPairs(input.spec.labels),
  ...(input.spec['ca-key'] ? { caKey: input.spec['ca-key'] } : {}),
});

export const clusterInput = (input: z.infer<typeof ClusterCreateSchema>): ClusterInput => ({
  ...describedFrom(input.metadata),
  labels: mapToPairs(input.spec.labels),
  kubeconfig: input.spec.kubeconfig,
  ...(input.spec['ca-key'] ? { caKey: input.spec['ca-key'] } : {}),
});

/** A cluster's body: never the kubeconfig or the CA key. */
export const ClusterView = z.strictObject({
  metadata: MetadataView,
  spec: z.strictObject({
    'cluster-provider': z.string(),
    server: z.string(),
    labels: z.record(z.string(), z.string()),
    'has-ca-key': z.boolean(),
  }),
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
