import type { Router } from 'express';
import { mapToPairs, pairsToMap } from '../../db/named-record-store.js';
import { checkNameMatches, crudSpec, declareCrudRoutes } from '../../http/crud-routes.js';
import type { OpenApiRegistry } from '../../http/openapi.js';
import { z } from 'zod';
import { describedFrom, MetadataView, metadataView } from '../metadata.js';
import {
  DEFAULT_CONTAINER_DEFAULTS,
  NETWORK_MODES,
  networkModeOf,
  POD_SECURITY_LEVELS,
  podSecurityOf,
  type IsolationSettings,
  type LogicalCloudData,
} from './logical-cloud.model.js';
import {
  LogicalCloudCreateSchema,
  LogicalCloudUpdateSchema,
  userTypeOf,
  type LogicalCloudBody,
  type LogicalCloudCreateBody,
} from './logical-cloud.schema.js';
import type { LogicalCloudInput, LogicalCloudService, LogicalCloudView } from './logical-cloud.service.js';

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
            ...(spec.serviceMesh.nameConstraints !== undefined ? { nameConstraints: spec.serviceMesh.nameConstraints } : {}),
          },
        }
      : {}),
    ...(spec.reconcile ? { reconcile: spec.reconcile } : {}),
    ...(spec.isolation ? { isolation: isolationData(spec.isolation) } : {}),
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
    p ? { ...(p.cpu !== undefined ? { cpu: p.cpu } : {}), ...(p.memory !== undefined ? { memory: p.memory } : {}) } : undefined;
  const requests = pair(isolation.containerDefaults?.requests);
  const limits = pair(isolation.containerDefaults?.limits);
  return {
    ...(isolation.podSecurity ? { podSecurity: isolation.podSecurity } : {}),
    ...(isolation.network ? { network: isolation.network } : {}),
    ...(isolation.containerDefaults ? { containerDefaults: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } } : {}),
  };
}

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

const RuleView = { namespace: z.string(), apiGroups: z.array(z.string()), resources: z.array(z.string()), verbs: z.array(z.string()) };

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
    clusters: z.array(z.string()),
  }),
});

/** The design's logical cloud body (endpoint 1), as an example. */
export const DESIGN_LOGICAL_CLOUD = {
  metadata: { name: 'lc-1', description: 'logical cloud for walmart finance department', userData1: '<user data>', userData2: '<user data>' },
  spec: {
    namespace: 'ns-1',
    user: {
      'user-name': 'user-1',
      type: 'certificate',
      'user-permissions': [
        { 'permission-name': 'permission-1', apiGroups: ['stable.example.com'], resources: ['secrets', 'pods'], verbs: ['get', 'watch', 'list', 'create'] },
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
    isolation: { podSecurity: 'restricted', network: 'DenyAll', containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } } },
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
      clusters: clusterReferences.map((r) => r.data.cluster),
    },
  };
}

const keyed = (view: LogicalCloudView) => ({ ...view, name: view.record.name, revision: view.record.revision });

/** The REST routes of the resource, as data: the gRPC API serves the same spec. */
export const logicalCloudCrud = (logicalClouds: LogicalCloudService) =>
  crudSpec<LogicalCloudCreateBody, LogicalCloudBody, ReturnType<typeof keyed>>({
    tag: 'Logical clouds',
    noun: 'logical cloud',
    collectionPath: '/projects/:project/logical-clouds',
    itemParam: 'logicalCloud',
    createSchema: LogicalCloudCreateSchema,
    updateSchema: LogicalCloudUpdateSchema,
    create: async (p, body, caller) => keyed(await logicalClouds.create(p.project!, body.metadata.name, logicalCloudInput(body), caller)),
    get: async (p, name) => keyed(await logicalClouds.get(p.project!, name)),
    list: async (p, page) => {
      const { items, total } = await logicalClouds.list(p.project!, page);
      return { items: items.map(keyed), total };
    },
    update: async (p, name, body, revision, caller) => {
      checkNameMatches(name, body.metadata?.name);
      return keyed(await logicalClouds.update(p.project!, name, logicalCloudInput(body), revision, caller));
    },
    delete: (p, name) => logicalClouds.delete(p.project!, name),
    view: logicalCloudView,
    viewSchema: LogicalCloudViewSchema,
    rules: { create: "Beyond the schema (400): `user-name` and `userName` must agree when both are given; an inline permission's namespace must be the logical cloud's or \"\", and a namespaced one cannot name `namespaces`; isolation's container defaults must fit the logical cloud's quotas; label keys under kubernetes.io, k8s.io, istio.io or dcm.onap.org are reserved unless the project's policy allows them. A namespace held by another logical cloud or reserved is a 409.", update: "Beyond the schema (400): `user-name` and `userName` must agree when both are given; an inline permission's namespace must be the logical cloud's or \"\"; label keys under kubernetes.io, k8s.io, istio.io or dcm.onap.org are reserved unless the project's policy allows them. A namespace held by another logical cloud or reserved is a 409." },
    examples: {
      create: { 'lc-1': DESIGN_LOGICAL_CLOUD, 'lc-isolated': ISOLATED_LOGICAL_CLOUD },
      update: { 'lc-1': { spec: DESIGN_LOGICAL_CLOUD.spec }, 'lc-isolated': { spec: ISOLATED_LOGICAL_CLOUD.spec } },
    },
  });

export function declareLogicalCloudRoutes(router: Router, registry: OpenApiRegistry, logicalClouds: LogicalCloudService): void {
  declareCrudRoutes(router, registry, logicalCloudCrud(logicalClouds));
}
