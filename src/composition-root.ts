/**
 * The one place where the DCM is wired: stores → services → REST routes (and later gRPC and
 * background workers). Nothing else constructs a store or a service.
 */
import type { Db } from './db/mongo.js';
import { declareClusterReferenceRoutes } from './features/cluster-references/cluster-reference.router.js';
import { declareClusterQuotaRoutes } from './features/cluster-quotas/cluster-quota.router.js';
import { declareOverallQuotaRoutes } from './features/overall-quotas/overall-quota.router.js';
import { declareClusterRegistryRoutes } from './features/cluster-registry/cluster.router.js';
import { declareKvPairRoutes } from './features/kv-pairs/kv-pair.router.js';
import { declareLogicalCloudRoutes } from './features/logical-clouds/logical-cloud.router.js';
import { declareProjectRoutes } from './features/projects/project.router.js';
import { declarePermissionRoutes } from './features/user-permissions/user-permission.router.js';
import { defaultConfig, type Config } from './config.js';
import { DownloadRateLimiter } from './features/lifecycle/tenant-kubeconfig.js';
import { createGrpcServer, type DcmGrpcServer } from './grpc/server.js';
import { grpcLimitsFromConfig, type GrpcLimitsConfig, type GrpcServerLimits } from './grpc/server-limits.js';
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
import { declareClusterSelectionRoutes } from './features/cluster-selection/cluster-selection.router.js';
import { createServices, type ServiceConfig, type ServiceDependencies, type Services } from './services.js';
import { createStores, type Stores } from './stores.js';

export type { ServiceConfig, ServiceDependencies, Services } from './services.js';
export type { Stores } from './stores.js';

export const VERSION = '0.1.0';

export interface Dcm {
  app: ReturnType<typeof createApp>;
  services: Services;
  stores: Stores;
  /** Authentication and authorization of both APIs. */
  gate: AccessGate;
  /** Metrics (its own registry) and audit. */
  observability: Observability;
  /** The gRPC server's stream and connection limits, from the configuration (createDcmGrpcServer uses them). */
  grpcLimits: GrpcServerLimits;
  /** Token users' kubeconfig downloads per (caller, logical cloud), shared by REST and gRPC. */
  kubeconfigDownloads: DownloadRateLimiter;
}

/** What createDcm reads of the configuration besides the services' part (main.ts passes all of it; tests may leave these out: the defaults). */
type LimitsConfig = GrpcLimitsConfig & Pick<Config, 'DCM_METRICS_REFRESH_MS' | 'DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE'>;

export interface DcmOptions extends ServiceDependencies {
  config: ServiceConfig & Partial<LimitsConfig>;
  db: Db;
  bodyLimit: string;
  ready: () => Promise<boolean>;
  /**
   * Who may call the APIs; required, never assumed: main.ts passes what the configuration says
   * (src/auth/setup.ts); a test that wants no authentication passes `{ mode: 'development' }`.
   */
  auth: AuthSetup;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
}

export async function createDcm(opts: DcmOptions): Promise<Dcm> {
  // No silent development mode: a caller that forgot `auth` (a plain-JS caller, a cast) fails here, before anything is served.
  const auth = opts.auth as AuthSetup | undefined;
  if (auth?.mode !== 'development' && auth?.mode !== 'enforced') {
    throw new TypeError(
      "createDcm: the `auth` option is required ({ mode: 'enforced', … } from loadAuth(config), or { mode: 'development' } explicitly)",
    );
  }
  const limitsConfig: LimitsConfig = { ...defaultConfig(), ...definedOnly(opts.config) };
  const stores = createStores(opts.db, opts.cipher);
  for (const store of Object.values(stores)) await store.init();
  const observability = createObservability({
    logger: opts.logger,
    stores,
    metricsToken: opts.metricsToken,
    metricsRefreshMs: limitsConfig.DCM_METRICS_REFRESH_MS,
  });
  const gate = new AccessGate(auth, opts.logger);
  const kubeconfigDownloads = new DownloadRateLimiter({ perMinute: limitsConfig.DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE });
  const services = createServices(stores, {
    ...opts,
    lifecycleObserver: observability.metrics.lifecycle,
    driftObserver: observability.metrics.drift,
  });
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
      (r, reg) =>
        declareClusterRegistryRoutes(r, reg, services.clusterProviders, services.clusters, services.clusterClm),
      (r, reg) => declareClusterHealthRoutes(r, reg, services.clusterHealth),
      (r, reg) => declareLogicalCloudRoutes(r, reg, services.logicalClouds),
      (r, reg) => declareClusterReferenceRoutes(r, reg, services.clusterReferences),
      (r, reg) => declareClusterSelectionRoutes(r, reg, services.clusterSelection),
      (r, reg) => declarePermissionRoutes(r, reg, services.permissions),
      (r, reg) => declareClusterQuotaRoutes(r, reg, services.clusterQuotas),
      (r, reg) => declareOverallQuotaRoutes(r, reg, services.overallQuotas),
      (r, reg) => declareKvPairRoutes(r, reg, services.kvPairs),
      (r, reg) => declareLifecycleRoutes(r, reg, services.lifecycle, { kubeconfigDownloads }),
      (r, reg) => declareCertificateAuthorityRoutes(r, reg, services.certificateAuthority),
    ],
  });
  return {
    app,
    services,
    stores,
    gate,
    observability,
    grpcLimits: grpcLimitsFromConfig(limitsConfig),
    kubeconfigDownloads,
  };
}

/** The entries of a configuration that are set (a spread of `undefined` must not hide a default). */
function definedOnly<T extends object>(config: T): Partial<T> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/**
 * The gRPC API of a composed DCM: the same services, the status store's change events for
 * WatchStatus, the DCM's gate, metrics and audit (one interceptor), its stream and connection
 * limits (from the configuration createDcm was given; `limits` and `watchStreamsPerCaller`
 * override them) and its kubeconfig download limiter (shared with REST).
 */
export function createDcmGrpcServer(
  dcm: Pick<Dcm, 'services' | 'stores' | 'gate' | 'observability' | 'grpcLimits' | 'kubeconfigDownloads'>,
  opts: {
    logger: Logger;
    ready: () => Promise<boolean>;
    watchStreamsPerCaller?: number;
    limits?: Partial<GrpcServerLimits>;
  },
): DcmGrpcServer {
  return createGrpcServer({
    services: dcm.services,
    statusEvents: dcm.stores.lifecycle.events,
    logger: opts.logger,
    ready: opts.ready,
    limits: { ...dcm.grpcLimits, ...opts.limits },
    ...(opts.watchStreamsPerCaller !== undefined ? { watchStreamsPerCaller: opts.watchStreamsPerCaller } : {}),
    kubeconfigDownloads: dcm.kubeconfigDownloads,
    interceptors: [grpcInterceptor(dcm.gate, dcm.observability.grpcObserver)],
  });
}
