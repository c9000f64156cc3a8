/**
 * The one place where the DCM is wired: stores → services → REST routes (and later gRPC and
 * background workers). Nothing else constructs a store or a service.
 */
import type { Db } from 'mongodb';
import { declareClusterReferenceRoutes } from './features/cluster-references/cluster-references.router.js';
import { declareClusterQuotaRoutes } from './features/cluster-quotas/cluster-quotas.router.js';
import { declareClusterRegistryRoutes } from './features/cluster-registry/cluster-registry.router.js';
import { declareKvPairRoutes } from './features/kv-pairs/kv-pairs.router.js';
import { declareLogicalCloudRoutes } from './features/logical-clouds/logical-clouds.router.js';
import { declareProjectRoutes } from './features/projects/projects.router.js';
import { declarePermissionRoutes } from './features/user-permissions/user-permissions.router.js';
import { createGrpcServer, type DcmGrpcServer } from './grpc/server.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { declareLifecycleRoutes } from './features/lifecycle/lifecycle.router.js';
import { AccessGate, type AuthSetup } from './auth/gate.js';
import { grpcInterceptor } from './auth/grpc.js';
import { httpGuard } from './auth/http.js';
import { createObservability, requestWithoutCredentials, type Observability } from './observability/observability.js';
import { declareCertificateAuthorityRoutes } from './features/certificate-authority/certificate-authority.router.js';
import { declareClusterHealthRoutes } from './features/cluster-registry/cluster-health.router.js';
import { declareProjectPolicyRoutes } from './features/project-policies/project-policy.router.js';
import { createServices, createStores, type ServiceDependencies, type Services, type Stores } from './services.js';

export type { ServiceConfig, ServiceDependencies, Services, Stores } from './services.js';

export const VERSION = '0.1.0';

export interface Dcm {
  app: ReturnType<typeof createApp>;
  services: Services;
  stores: Stores;
  /** Authentication and authorization of both APIs. */
  gate: AccessGate;
  /** Metrics (its own registry) and audit. */
  observability: Observability;
}

export interface DcmOptions extends ServiceDependencies {
  db: Db;
  bodyLimit: string;
  ready: () => Promise<boolean>;
  /**
   * Who may call the APIs. Default `{ mode: 'development' }`: no authentication, every caller
   * is an admin (tests); main.ts always passes what the configuration says (src/auth/setup.ts).
   */
  auth?: AuthSetup;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

export async function createDcm(opts: DcmOptions): Promise<Dcm> {
  const stores = createStores(opts.db, opts.cipher);
  for (const store of Object.values(stores)) await store.init();
  // A cluster is referenced at most once per logical cloud, also when references are written concurrently.
  await stores.clusterReferences.ensureUniqueIndex('cluster_once_per_logical_cloud', {
    logicalCloudId: 1,
    'data.clusterProvider': 1,
    'data.cluster': 1,
  });
  const observability = createObservability({ logger: opts.logger, db: opts.db, metricsToken: opts.metricsToken });
  const gate = new AccessGate(opts.auth ?? { mode: 'development' }, opts.logger);
  const services = createServices(stores, { ...opts, lifecycleObserver: observability.metrics.lifecycle, driftObserver: observability.metrics.drift });
  // The operator's CA is checked, or the DCM's root generated once (the first of several replicas to insert it wins).
  await services.meshCa.initialize();
  // Logical clouds stored before namespaces were claimed DCM-wide get their claims (once per database).
  await stores.namespaceClaims.backfillOnce(() => services.logicalClouds.claimStoredNamespaces());
  const app = createApp({
    observers: [observability.httpObserver],
    endpoints: { '/metrics': observability.metricsEndpoint },
    guards: [httpGuard(gate, services.projects)],
    requestSerializer: requestWithoutCredentials,
    logger: opts.logger,
    bodyLimit: opts.bodyLimit,
    version: VERSION,
    ready: opts.ready,
    routes: [
      (r, reg) => declareProjectRoutes(r, reg, services.projects),
      (r, reg) => declareProjectPolicyRoutes(r, reg, services.projectPolicies),
      (r, reg) => declareClusterRegistryRoutes(r, reg, services.clusterProviders, services.clusters),
      (r, reg) => declareClusterHealthRoutes(r, reg, services.clusterHealth),
      (r, reg) => declareLogicalCloudRoutes(r, reg, services.logicalClouds),
      (r, reg) => declareClusterReferenceRoutes(r, reg, services.clusterReferences),
      (r, reg) => declarePermissionRoutes(r, reg, services.permissions),
      (r, reg) => declareClusterQuotaRoutes(r, reg, services.clusterQuotas),
      (r, reg) => declareKvPairRoutes(r, reg, services.kvPairs),
      (r, reg) => declareLifecycleRoutes(r, reg, services.lifecycle),
      (r, reg) => declareCertificateAuthorityRoutes(r, reg, services.certificateAuthority),
    ],
  });
  return { app, services, stores, gate, observability };
}

/**
 * The gRPC API of a composed DCM: the same services, the status store's change events for
 * WatchStatus, and the DCM's gate, metrics and audit (one interceptor).
 */
export function createDcmGrpcServer(
  dcm: Pick<Dcm, 'services' | 'stores' | 'gate' | 'observability'>,
  opts: { logger: Logger; ready: () => Promise<boolean>; watchStreamsPerCaller?: number },
): DcmGrpcServer {
  return createGrpcServer({
    services: dcm.services,
    statusEvents: dcm.stores.lifecycle.events,
    logger: opts.logger,
    ready: opts.ready,
    ...(opts.watchStreamsPerCaller !== undefined ? { watchStreamsPerCaller: opts.watchStreamsPerCaller } : {}),
    interceptors: [grpcInterceptor(dcm.gate, dcm.observability.grpcObserver)],
  });
}
