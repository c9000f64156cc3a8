/** A logical cloud as the APIs show it (the design's GET body plus EMCO's flat fields), and example bodies. */
import { RuleView } from '../user-permissions/user-permission.schema.js';
import { z } from 'zod';
import { pairsToMap } from '../../db/named-record-store.js';
import {
  DEFAULT_CONTAINER_DEFAULTS,
  NETWORK_MODES,
  networkModeOf,
  POD_SECURITY_LEVELS,
  podSecurityOf,
  type LogicalCloudData,
} from '../../domain/logical-cloud.js';
import { MetadataView, metadataView } from '../metadata.js';
import { ClusterSelectorSchema, selectorView } from '../cluster-selection/cluster-selector.schema.js';
import type { LogicalCloudView } from './logical-cloud.service.js';

/** What a logical cloud's namespace gets, defaults filled in (level 1); the view shows what is in force. */
export function isolationView(data: LogicalCloudData) {
  const defaults = data.isolation?.containerDefaults;
  return {
    podSecurity: podSecurityOf(data),
    network: networkModeOf(data),
    containerDefaults: {
      requests: { ...DEFAULT_CONTAINER_DEFAULTS.requests, ...defaults?.requests },
      limits: { ...DEFAULT_CONTAINER_DEFAULTS.limits, ...defaults?.limits },
    },
  };
}

const PairView = z.strictObject({ cpu: z.string(), memory: z.string() });

/** A logical cloud's body (logicalCloudView). */
export const LogicalCloudViewSchema = z.strictObject({
  name: z.string(),
  'logical-cloud-name': z.string(),
  namespace: z.string(),
  'user-name': z.string(),
  user: z.string(),
  metadata: MetadataView,
  spec: z.strictObject({
    namespace: z.string(),
    level: z.enum(['0', '1']),
    labels: z.record(z.string(), z.string()),
    user: z
      .strictObject({
        'user-name': z.string(),
        type: z.enum(['certificate', 'token']),
        'user-permissions': z.array(z.strictObject({ 'permission-name': z.string(), ...RuleView })),
      })
      .optional(),
    serviceMesh: z.strictObject({ enabled: z.boolean(), network: z.string().optional(), nameConstraints: z.boolean() }),
    reconcile: z.enum(['enabled', 'paused']),
    isolation: z
      .strictObject({
        podSecurity: z.enum(POD_SECURITY_LEVELS),
        network: z.enum(NETWORK_MODES),
        containerDefaults: z.strictObject({ requests: PairView, limits: PairView }),
      })
      .optional(),
    clusterSelector: ClusterSelectorSchema.optional(),
    clusterSelection: z.strictObject({ removal: z.enum(['Terminate', 'Keep']) }).optional(),
    clusters: z.array(z.string()),
  }),
});

/** A logical cloud that spans the edge clusters by their labels (docs/cluster-selection.md). */
export const SELECTING_LOGICAL_CLOUD = {
  metadata: { name: 'lc-edge' },
  spec: {
    namespace: 'ns-edge',
    user: { 'user-name': 'user-edge', type: 'certificate' },
    clusterSelector: {
      providers: ['edge'],
      matchLabels: { tier: 'edge' },
      matchExpressions: [{ key: 'zone', operator: 'In', values: ['east', 'west'] }],
    },
    clusterSelection: { removal: 'Terminate' },
  },
};

/** The design's logical cloud body (endpoint 1), as an example. */
export const DESIGN_LOGICAL_CLOUD = {
  metadata: {
    name: 'lc-1',
    description: 'logical cloud for walmart finance department',
    userData1: '<user data>',
    userData2: '<user data>',
  },
  spec: {
    namespace: 'ns-1',
    user: {
      'user-name': 'user-1',
      type: 'certificate',
      'user-permissions': [
        {
          'permission-name': 'permission-1',
          apiGroups: ['stable.example.com'],
          resources: ['secrets', 'pods'],
          verbs: ['get', 'watch', 'list', 'create'],
        },
        { 'permission-name': 'permission-2', apiGroups: [''], resources: ['configmaps'], verbs: ['*'] },
      ],
    },
  },
};

/** A logical cloud that sets its namespace's isolation (docs/isolation.md). */
export const ISOLATED_LOGICAL_CLOUD = {
  metadata: { name: 'lc-isolated' },
  spec: {
    namespace: 'ns-isolated',
    user: { 'user-name': 'user-2', type: 'certificate' },
    isolation: {
      podSecurity: 'restricted',
      network: 'DenyAll',
      containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    },
  },
};

/**
 * The design's GET body (metadata + spec with user, user-permissions and clusters), plus the
 * flat summary fields its POST and PUT answers carry (`logical-cloud-name`, `user-name`, …).
 */
export function logicalCloudView({ record, permissions, clusterReferences }: LogicalCloudView) {
  const { data } = record;
  const user = data.user
    ? {
        'user-name': data.user.name,
        type: data.user.type,
        'user-permissions': permissions.map((p) => ({
          'permission-name': p.name,
          namespace: p.data.namespace,
          apiGroups: p.data.apiGroups,
          resources: p.data.resources,
          verbs: p.data.verbs,
        })),
      }
    : undefined;
  return {
    name: record.name,
    'logical-cloud-name': record.name,
    namespace: data.namespace,
    'user-name': data.user?.name ?? '',
    user: data.user?.name ?? '',
    metadata: metadataView(record.name, data),
    spec: {
      namespace: data.namespace,
      level: data.level,
      labels: pairsToMap(data.labels),
      ...(user ? { user } : {}),
      serviceMesh: {
        enabled: data.serviceMesh?.enabled ?? false,
        ...(data.serviceMesh?.network !== undefined ? { network: data.serviceMesh.network } : {}),
        nameConstraints: data.serviceMesh?.nameConstraints !== false,
      },
      reconcile: data.reconcile ?? 'enabled',
      ...(data.level === '1' ? { isolation: isolationView(data) } : {}),
      ...(data.clusterSelector
        ? {
            clusterSelector: selectorView(data.clusterSelector),
            clusterSelection: { removal: data.clusterSelection?.removal ?? 'Terminate' },
          }
        : {}),
      clusters: clusterReferences.map((r) => r.data.cluster),
    },
  };
}
