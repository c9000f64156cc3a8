/**
 * A cluster reference as the design writes it (`{"name": "<cluster>"}`, optionally with
 * `cluster-provider` / `cluster-name`) or as EMCO clients do (`metadata` + `spec` with
 * kebab-case or camelCase fields).
 */
import { z } from 'zod';
import { resourceName } from '../../validation/record-metadata.js';
import { atMost, LIMITS } from '../../validation/limits.js';
import type { ClusterReferenceRecord } from '../../domain/logical-cloud.js';
import {
  describedFrom,
  MetadataSchema,
  MetadataView,
  metadataView,
  UpdateMetadataSchema,
  type Described,
} from '../metadata.js';

/** A regex's source without its anchors. */
const IP_PATTERN_BODY = (re: RegExp) => re.source.replace(/^\^/, '').replace(/\$$/, '');

/** An IPv4 or IPv6 address, or "" (none); its length is checked first. */
const Ip = z
  .string()
  .max(LIMITS.ipLength, { error: atMost(LIMITS.ipLength, 'characters'), abort: true })
  .pipe(z.union([z.ipv4(), z.ipv6(), z.literal('')]))
  // The piped union is not in the input schema: the document states it as one pattern (zod's own address patterns).
  .meta({
    pattern: `^(?:${IP_PATTERN_BODY(z.regexes.ipv4)}|${IP_PATTERN_BODY(z.regexes.ipv6)})?$`,
    maxLength: LIMITS.ipLength,
  });

const DesignReference = z.strictObject({
  name: resourceName,
  'cluster-provider': resourceName.optional(),
  'cluster-name': resourceName.optional(),
  'loadbalancer-ip': Ip.optional(),
});

const EmcoSpec = z.strictObject({
  'cluster-provider': resourceName.optional(),
  clusterProvider: resourceName.optional(),
  'cluster-name': resourceName.optional(),
  cluster: resourceName.optional(),
  'loadbalancer-ip': Ip.optional(),
  loadBalancerIP: Ip.optional(),
});

export const ClusterReferenceCreateSchema = z.union([
  DesignReference,
  z.strictObject({ metadata: MetadataSchema, spec: EmcoSpec }),
]);
export const ClusterReferenceUpdateSchema = z.union([
  DesignReference.extend({ name: resourceName.optional() }),
  z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: EmcoSpec }),
]);

export interface ClusterReferenceInput extends Described {
  name?: string;
  clusterProvider?: string;
  /** Defaults to the reference's name, as in the design's `{"name": "<cluster>"}`. */
  cluster?: string;
  loadbalancerIp: string;
}

export function clusterReferenceInput(body: z.infer<typeof ClusterReferenceUpdateSchema>): ClusterReferenceInput {
  if ('spec' in body) {
    const s = body.spec;
    return {
      ...describedFrom(body.metadata),
      name: body.metadata?.name,
      clusterProvider: s['cluster-provider'] ?? s.clusterProvider,
      cluster: s['cluster-name'] ?? s.cluster,
      loadbalancerIp: s['loadbalancer-ip'] ?? s.loadBalancerIP ?? '',
    };
  }
  return {
    ...describedFrom(undefined),
    name: body.name,
    clusterProvider: body['cluster-provider'],
    cluster: body['cluster-name'],
    loadbalancerIp: body['loadbalancer-ip'] ?? '',
  };
}

const ReferenceFields = { 'cluster-provider': z.string(), 'cluster-name': z.string(), 'loadbalancer-ip': z.string() };

/** A cluster reference's body: the design's flat fields and EMCO's metadata/spec. */
export const ClusterReferenceView = z.strictObject({
  name: z.string(),
  ...ReferenceFields,
  /** Made (and removed) by the logical cloud's spec.clusterSelector. */
  selected: z.boolean(),
  /** A selected cluster that left the selection under removal Keep: what was applied stays. */
  orphaned: z.boolean().optional(),
  metadata: MetadataView,
  spec: z.strictObject(ReferenceFields),
});

export const clusterReferenceView = (r: ClusterReferenceRecord) => ({
  name: r.name,
  'cluster-provider': r.data.clusterProvider,
  'cluster-name': r.data.cluster,
  'loadbalancer-ip': r.data.loadbalancerIp,
  selected: r.data.selected === true,
  ...(r.data.orphaned ? { orphaned: true } : {}),
  metadata: metadataView(r.name, r.data),
  spec: {
    'cluster-provider': r.data.clusterProvider,
    'cluster-name': r.data.cluster,
    'loadbalancer-ip': r.data.loadbalancerIp,
  },
});
