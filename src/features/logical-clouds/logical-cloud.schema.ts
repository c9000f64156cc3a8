/** The logical cloud body of the design (endpoints 1, 3, 5), plus EMCO's `userName` and `level`. */
import { z } from 'zod';
import { mapToPairs } from '../../db/named-record-store.js';
import {
  NETWORK_MODES,
  POD_SECURITY_LEVELS,
  type IsolationSettings,
  type LogicalCloudData,
} from '../../domain/logical-cloud.js';
import { dns1123Label, PATTERNS } from '../../validation/kubernetes-names.js';
import { kubernetesUserName } from '../../validation/kubernetes-user-name.js';
import { isLabelValue, labelMap } from '../../validation/labels.js';
import { parseQuantity } from '../../validation/quantity.js';
import { atMost, boundedString, LIMITS } from '../../validation/limits.js';
import { describedFrom, MetadataSchema, UpdateMetadataSchema } from '../metadata.js';
import { InlinePermissionSchema } from '../user-permissions/user-permission.schema.js';
import type { LogicalCloudInput } from './logical-cloud.service.js';
import {
  ClusterSelectionSchema,
  ClusterSelectorSchema,
  selectorData,
} from '../cluster-selection/cluster-selector.schema.js';

/** certificate: a client certificate per cluster; token (the design's `Token`): a ServiceAccount and bound tokens. */
export const USER_TYPES = ['certificate', 'token', 'Token'] as const;

/** The stored user type of a body's `type` (absent: certificate). */
export const userTypeOf = (type: string | undefined): 'certificate' | 'token' =>
  type?.toLowerCase() === 'token' ? 'token' : 'certificate';

const UserSchema = z
  .strictObject({
    'user-name': kubernetesUserName.optional(),
    userName: kubernetesUserName.optional(),
    type: boundedString(LIMITS.userTypeLength)
      .meta({ enum: [...USER_TYPES] })
      .optional(),
    'user-permissions': z
      .array(InlinePermissionSchema)
      .max(LIMITS.inlinePermissions, atMost(LIMITS.inlinePermissions, 'permissions'))
      .optional(),
  })
  .superRefine((user, ctx) => {
    if (user['user-name'] === undefined && user.userName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['user-name'], message: 'the user name is required' });
    }
    if (user['user-name'] !== undefined && user.userName !== undefined && user['user-name'] !== user.userName) {
      ctx.addIssue({
        code: 'custom',
        path: ['userName'],
        message: 'user-name and userName disagree; send one of them',
      });
    }
    if (user.type !== undefined && !(USER_TYPES as readonly string[]).includes(user.type)) {
      const basic = user.type.toUpperCase() === 'UNPW';
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: basic
          ? 'user type UNPW (user name and password) is not possible: Kubernetes removed basic authentication in 1.19; use certificate or token'
          : `user type ${user.type} is not supported: certificate or token`,
      });
    }
  })
  .meta({
    anyOf: [{ required: ['user-name'] }, { required: ['userName'] }],
    description: "user-name (or EMCO's userName; both only when equal)",
  });

/**
 * An Istio control plane per cluster for this logical cloud, with a CA of its own per cluster
 * (see docs/security-model.md). Off unless asked for; `network` is Istio's network name for all
 * of the logical cloud's clusters (default: each cluster its own network, named after it).
 */
const ServiceMeshSchema = z.strictObject({
  enabled: z.boolean({ error: 'enabled is true or false' }),
  network: z
    .string()
    .refine((n) => n !== '' && isLabelValue(n), {
      message: 'a network name is ≤63 of A-Z a-z 0-9 - _ ., starting and ending alphanumeric',
    })
    .meta({ pattern: PATTERNS.labelName, maxLength: 63 })
    .optional(),
  /**
   * A URI name constraint (the logical cloud's trust domain) in its intermediates: default true, for
   * sidecar mode; false for ambient mode, whose ztunnel rejects chains with URI name constraints.
   */
  nameConstraints: z.boolean({ error: 'nameConstraints is true or false' }).optional(),
});

/** A positive Kubernetes quantity (the quota grammar), bounded in length. */
const positiveQuantity = boundedString(LIMITS.quotaValueLength).superRefine((s, ctx) => {
  const value = parseQuantity(s);
  if (value === undefined)
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(s)} is not a Kubernetes quantity (examples: "100m", "0.5", "128Mi", "1Gi")`,
    });
  else if (value <= 0) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} must be more than zero` });
});

const ResourcePairSchema = z.strictObject({ cpu: positiveQuantity.optional(), memory: positiveQuantity.optional() });

/**
 * How the logical cloud's namespace is made a boundary on every cluster (docs/isolation.md):
 * Pod Security level enforced, network isolation, and the requests/limits a container without
 * `resources:` gets. Every field optional: EMCO and ONAP bodies get the defaults.
 */
export const IsolationSchema = z
  .strictObject({
    podSecurity: z
      .enum(POD_SECURITY_LEVELS, { message: 'podSecurity is "restricted", "baseline" (the default) or "privileged"' })
      .optional(),
    network: z
      .enum(NETWORK_MODES, { message: 'network is "AllowSameNamespace" (the default), "DenyAll" or "AllowAll"' })
      .optional(),
    containerDefaults: z
      .strictObject({ requests: ResourcePairSchema.optional(), limits: ResourcePairSchema.optional() })
      .superRefine((d, ctx) => {
        for (const resource of ['cpu', 'memory'] as const) {
          const request = d.requests?.[resource];
          const limit = d.limits?.[resource];
          if (request === undefined || limit === undefined) continue;
          if ((parseQuantity(request) ?? 0) > (parseQuantity(limit) ?? Infinity)) {
            ctx.addIssue({
              code: 'custom',
              path: ['requests', resource],
              message: `the default request ${request} is more than the default limit ${limit}`,
            });
          }
        }
      })
      .optional(),
  })
  .meta({
    description:
      'Pod Security, network isolation and container defaults of the namespace (level 1 only; every field optional).',
    examples: [
      {
        podSecurity: 'baseline',
        network: 'AllowSameNamespace',
        containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
      },
    ],
  });

const SpecSchema = z
  .strictObject({
    // Namespaces reserved for Kubernetes, Istio and the DCM, or held by another logical cloud: 409 from the service.
    namespace: dns1123Label.optional(),
    level: z.enum(['0', '1'], { message: 'level is "0" (admin) or "1" (standard)' }).optional(),
    labels: labelMap.optional(),
    user: UserSchema.optional(),
    serviceMesh: ServiceMeshSchema.optional(),
    // Drift on the clusters: restored (enabled, the default) or only reported (paused).
    reconcile: z
      .enum(['enabled', 'paused'], {
        message: 'reconcile is "enabled" (drift is restored) or "paused" (drift is only reported)',
      })
      .optional(),
    isolation: IsolationSchema.optional(),
    // Clusters chosen by their labels (docs/cluster-selection.md); absent: only hand-made cluster references.
    clusterSelector: ClusterSelectorSchema.optional(),
    clusterSelection: ClusterSelectionSchema.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.serviceMesh?.enabled) {
      if ((spec.level ?? '1') !== '1') {
        ctx.addIssue({
          code: 'custom',
          path: ['serviceMesh', 'enabled'],
          message: 'a service mesh needs a standard (level 1) logical cloud with its own namespace',
        });
      }
      if (spec.labels && 'istio.io/rev' in spec.labels) {
        ctx.addIssue({
          code: 'custom',
          path: ['labels', 'istio.io/rev'],
          message: "set by the DCM to the logical cloud's own control plane when serviceMesh is enabled",
        });
      }
    }
    if ((spec.level ?? '1') !== '1') {
      if (spec.isolation !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['isolation'],
          message:
            'isolation applies to a standard (level 1) logical cloud; an admin (level 0) one creates nothing on the clusters',
        });
      return;
    }
    if (spec.namespace === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['namespace'],
        message: 'a standard (level 1) logical cloud needs a namespace',
      });
    if (spec.user === undefined)
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'a standard (level 1) logical cloud needs a user' });
  })
  .meta({
    allOf: [
      // level "1" (the default) needs a namespace and a user
      { anyOf: [{ required: ['level'], properties: { level: { const: '0' } } }, { required: ['namespace', 'user'] }] },
      // a service mesh needs level "1" and sets istio.io/rev itself
      {
        if: {
          required: ['serviceMesh'],
          properties: { serviceMesh: { required: ['enabled'], properties: { enabled: { const: true } } } },
        },
        then: { properties: { level: { const: '1' }, labels: { not: { required: ['istio.io/rev'] } } } },
      },
    ],
  });

export const LogicalCloudCreateSchema = z.strictObject({ metadata: MetadataSchema, spec: SpecSchema });
export const LogicalCloudUpdateSchema = z.strictObject({ metadata: UpdateMetadataSchema.optional(), spec: SpecSchema });

export type LogicalCloudBody = z.infer<typeof LogicalCloudUpdateSchema>;
export type LogicalCloudCreateBody = z.infer<typeof LogicalCloudCreateSchema>;

export function logicalCloudInput(body: LogicalCloudBody): LogicalCloudInput {
  const { spec } = body;
  const userName = spec.user?.['user-name'] ?? spec.user?.userName;
  const data: LogicalCloudData = {
    ...describedFrom(body.metadata),
    namespace: spec.namespace ?? '',
    level: spec.level ?? '1',
    labels: mapToPairs(spec.labels),
    ...(userName ? { user: { name: userName, type: userTypeOf(spec.user?.type) } } : {}),
    ...(spec.serviceMesh
      ? {
          serviceMesh: {
            enabled: spec.serviceMesh.enabled,
            ...(spec.serviceMesh.network !== undefined ? { network: spec.serviceMesh.network } : {}),
            ...(spec.serviceMesh.nameConstraints !== undefined
              ? { nameConstraints: spec.serviceMesh.nameConstraints }
              : {}),
          },
        }
      : {}),
    ...(spec.reconcile ? { reconcile: spec.reconcile } : {}),
    ...(spec.isolation ? { isolation: isolationData(spec.isolation) } : {}),
    ...(spec.clusterSelector ? { clusterSelector: selectorData(spec.clusterSelector) } : {}),
    ...(spec.clusterSelection ? { clusterSelection: { removal: spec.clusterSelection.removal } } : {}),
  };
  const permissions = spec.user?.['user-permissions']?.map((p) => ({
    name: p['permission-name'],
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
    apiGroups: p.apiGroups,
    resources: p.resources,
    verbs: p.verbs,
  }));
  return { data, ...(permissions ? { permissions } : {}) };
}

/** The stored form of a body's isolation: only what was given (absent fields take the defaults when applied). */
function isolationData(isolation: NonNullable<LogicalCloudBody['spec']['isolation']>): IsolationSettings {
  const pair = (p: { cpu?: string | undefined; memory?: string | undefined } | undefined) =>
    p
      ? { ...(p.cpu !== undefined ? { cpu: p.cpu } : {}), ...(p.memory !== undefined ? { memory: p.memory } : {}) }
      : undefined;
  const requests = pair(isolation.containerDefaults?.requests);
  const limits = pair(isolation.containerDefaults?.limits);
  return {
    ...(isolation.podSecurity ? { podSecurity: isolation.podSecurity } : {}),
    ...(isolation.network ? { network: isolation.network } : {}),
    ...(isolation.containerDefaults
      ? { containerDefaults: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } }
      : {}),
  };
}
