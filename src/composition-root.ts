/**
 * The one place where the DCM is wired: stores → services → REST routes (and later gRPC and
 * background workers). Nothing else constructs a store or a service.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import { LeaseStore } from './db/lease-store.js';
import { NamedRecordStore } from './db/named-record-store.js';
import { declareClusterReferenceRoutes, createClusterReferenceService } from './features/cluster-references/cluster-references.router.js';
import { declareClusterQuotaRoutes, createClusterQuotaService } from './features/cluster-quotas/cluster-quotas.router.js';
import { declareClusterRegistryRoutes } from './features/cluster-registry/cluster-registry.router.js';
import { ClusterService, type ClusterData } from './features/cluster-registry/cluster.service.js';
import { declareKvPairRoutes, createKvPairService } from './features/kv-pairs/kv-pairs.router.js';
import { declareLogicalCloudRoutes } from './features/logical-clouds/logical-clouds.router.js';
import type {
  ClusterQuotaData,
  ClusterReferenceData,
  KvPairData,
  LogicalCloudData,
  PermissionData,
} from './features/logical-clouds/logical-cloud.model.js';
import { LogicalCloudService, type LifecycleGuard } from './features/logical-clouds/logical-cloud.service.js';
import type { Described } from './features/metadata.js';
import { declareProjectRoutes } from './features/projects/projects.router.js';
import { TopLevelService } from './features/top-level.service.js';
import { declarePermissionRoutes, createPermissionService } from './features/user-permissions/user-permissions.router.js';
import { createGrpcServer, type DcmGrpcServer } from './grpc/server.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import type { Config } from './config.js';
import { NamespaceController } from './controllers/namespace.controller.js';
import { QuotaController } from './controllers/quota.controller.js';
import { RbacController } from './controllers/rbac.controller.js';
import { UserController } from './controllers/user.controller.js';
import { CredentialsStore } from './features/lifecycle/credentials.store.js';
import { LifecycleStatusStore } from './features/lifecycle/lifecycle-status.store.js';
import { declareLifecycleRoutes } from './features/lifecycle/lifecycle.router.js';
import { LifecycleService } from './features/lifecycle/lifecycle.service.js';
import { CredentialRenewalJob } from './features/lifecycle/credential-renewal.job.js';
import { createClusterConnection, type ClusterConnection } from './kubernetes/cluster-connection.js';
import type { ClusterRecord, ClusterSecrets } from './features/cluster-registry/cluster.service.js';
import type { SecretCipher } from './security/secret-cipher.js';
import { AccessGate, type AuthSetup } from './auth/gate.js';
import { grpcInterceptor } from './auth/grpc.js';
import { httpGuard } from './auth/http.js';
import type { LifecycleObserver } from './features/lifecycle/lifecycle.service.js';
import { createObservability, requestWithoutCredentials, type Observability } from './observability/observability.js';
import { CaController } from './controllers/ca.controller.js';
import { ServiceMeshController } from './controllers/service-mesh.controller.js';
import { declareCertificateAuthorityRoutes } from './features/certificate-authority/certificate-authority.router.js';
import { CertificateAuthorityService } from './features/certificate-authority/certificate-authority.service.js';
import { IntermediateCaStore } from './features/certificate-authority/intermediate-ca.store.js';
import { MeshCertificateAuthority } from './features/certificate-authority/mesh-ca.js';
import { RootCaStore } from './features/certificate-authority/root-ca.store.js';
import { NamespaceClaimStore } from './features/logical-clouds/namespace-claims.store.js';
import { StopRequestStore } from './features/lifecycle/stop-requests.store.js';
import { ClusterHealthProber } from './features/cluster-registry/cluster-health.job.js';
import { clusterHealthService, declareClusterHealthRoutes } from './features/cluster-registry/cluster-health.router.js';
import { ClusterHealthStore } from './features/cluster-registry/cluster-health.store.js';
import { declareProjectPolicyRoutes } from './features/project-policies/project-policy.router.js';
import { ProjectPolicyService } from './features/project-policies/project-policy.service.js';
import { ProjectPolicyStore } from './features/project-policies/project-policy.store.js';

export const VERSION = '0.1.0';

/** A replica's default name: host, process and a random suffix (unique even for two DCMs in one process). */
const defaultReplicaId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

export function createStores(db: Db, cipher: SecretCipher) {
  return {
    projects: new NamedRecordStore<Described>(db, 'projects', []),
    clusterProviders: new NamedRecordStore<Described>(db, 'clusterProviders', []),
    clusters: new NamedRecordStore<ClusterData>(db, 'clusters', ['provider']),
    logicalClouds: new NamedRecordStore<LogicalCloudData>(db, 'logicalClouds', ['project']),
    permissions: new NamedRecordStore<PermissionData>(db, 'userPermissions', ['logicalCloudId']),
    clusterReferences: new NamedRecordStore<ClusterReferenceData>(db, 'clusterReferences', ['logicalCloudId']),
    clusterQuotas: new NamedRecordStore<ClusterQuotaData>(db, 'clusterQuotas', ['logicalCloudId']),
    kvPairs: new NamedRecordStore<KvPairData>(db, 'kvPairs', ['logicalCloudId']),
    lifecycle: new LifecycleStatusStore(db),
    credentials: new CredentialsStore(db, cipher),
    leases: new LeaseStore(db),
    caRoot: new RootCaStore(db, cipher),
    caIntermediates: new IntermediateCaStore(db, cipher),
    projectPolicies: new ProjectPolicyStore(db),
    namespaceClaims: new NamespaceClaimStore(db),
    stopRequests: new StopRequestStore(db),
    clusterHealth: new ClusterHealthStore(db),
  };
}

export type Stores = ReturnType<typeof createStores>;

export type ServiceConfig = Pick<
  Config,
  | 'DCM_CLUSTER_TIMEOUT_MS'
  | 'DCM_APPLY_CONCURRENCY'
  | 'DCM_USER_KEY_BITS'
  | 'DCM_CERT_VALIDITY_SECONDS'
  | 'DCM_CSR_SIGN_TIMEOUT_MS'
  | 'DCM_NAMESPACE_DELETE_TIMEOUT_MS'
  | 'DCM_LEASE_TTL_MS'
  | 'DCM_REPLICA_ID'
  | 'DCM_CA_CERT_FILE'
  | 'DCM_CA_KEY_FILE'
  | 'DCM_CA_CHAIN_FILE'
  | 'DCM_CA_ROOT_VALIDITY_SECONDS'
  | 'DCM_CA_INTERMEDIATE_VALIDITY_SECONDS'
  | 'DCM_MESH_ISTIO_VERSION'
  | 'DCM_MESH_READY_TIMEOUT_MS'
  | 'DCM_ALLOW_INSECURE_CLUSTERS'
  | 'DCM_CLUSTER_HEALTH_INTERVAL_MS'
  | 'DCM_TENANT_TOKEN_SECONDS'
>;

export interface ServiceDependencies {
  config: ServiceConfig;
  logger: Logger;
  /** Seals and opens secrets at rest. */
  cipher: SecretCipher;
  /** The one place that reaches clusters; tests may substitute it to reach an edge case. */
  connect?: (cluster: ClusterRecord, secrets: ClusterSecrets) => ClusterConnection;
  /** Told of every finished apply/terminate (metrics); createDcm passes its own. */
  lifecycleObserver?: LifecycleObserver;
  /** Test seam: runs between creating a tenant CSR on a cluster and reading it back for approval. */
  beforeCsrApproval?: (csrName: string) => Promise<void>;
}

export function createServices(stores: Stores, deps: ServiceDependencies) {
  // Parents and children consult each other through closures, called only after wiring.
  const guard = (): LifecycleGuard => logicalClouds.guard;

  const projects: TopLevelService<Described> = new TopLevelService('Project', stores.projects, {
    noun: 'logical clouds',
    exist: (name): Promise<boolean> => logicalClouds.hasLogicalClouds(name),
  });
  const clusterProviders: TopLevelService<Described> = new TopLevelService('Cluster provider', stores.clusterProviders, {
    noun: 'clusters',
    exist: (name): Promise<boolean> => clusters.hasClusters(name),
  });
  const clusters: ClusterService = new ClusterService(
    stores.clusters,
    clusterProviders,
    async (provider, cluster) => {
      if ((await stores.clusterReferences.count({ 'data.clusterProvider': provider, 'data.cluster': cluster })) > 0) {
        return 'is referenced by a logical cloud; remove the reference first';
      }
      const holding = await stores.lifecycle.holdingCluster(provider, cluster);
      if (holding.length > 0) return `still holds objects of logical cloud ${holding.join(', ')}; terminate it (or re-apply it) first`;
      return undefined;
    },
    deps.cipher,
    { allowInsecureClusters: deps.config.DCM_ALLOW_INSECURE_CLUSTERS },
  );
  const projectPolicies = new ProjectPolicyService(stores.projectPolicies, projects);
  const logicalClouds: LogicalCloudService = new LogicalCloudService(stores, projects, projectPolicies, stores.namespaceClaims);
  const { config } = deps;
  // The service-mesh CA; its signer is loaded (or the root generated) by createDcm before anything is served.
  const meshCa = new MeshCertificateAuthority(
    stores.caRoot,
    stores.caIntermediates,
    {
      certFile: config.DCM_CA_CERT_FILE,
      keyFile: config.DCM_CA_KEY_FILE,
      chainFile: config.DCM_CA_CHAIN_FILE,
      rootValiditySeconds: config.DCM_CA_ROOT_VALIDITY_SECONDS,
      intermediateValiditySeconds: config.DCM_CA_INTERMEDIATE_VALIDITY_SECONDS,
      replicaId: config.DCM_REPLICA_ID ?? defaultReplicaId(),
    },
    deps.logger,
  );
  const lifecycle = new LifecycleService(
    logicalClouds,
    stores,
    clusters,
    stores.lifecycle,
    stores.credentials,
    stores.leases,
    projectPolicies,
    {
      namespace: new NamespaceController(config.DCM_NAMESPACE_DELETE_TIMEOUT_MS),
      user: new UserController(stores.credentials, {
        keyBits: config.DCM_USER_KEY_BITS,
        certificateValiditySeconds: config.DCM_CERT_VALIDITY_SECONDS,
        signTimeoutMs: config.DCM_CSR_SIGN_TIMEOUT_MS,
        ...(deps.beforeCsrApproval ? { beforeApproval: deps.beforeCsrApproval } : {}),
      }),
      rbac: new RbacController(),
      quota: new QuotaController(),
      ca: new CaController(meshCa, config.DCM_NAMESPACE_DELETE_TIMEOUT_MS),
      mesh: new ServiceMeshController({ istioVersion: config.DCM_MESH_ISTIO_VERSION, readyTimeoutMs: config.DCM_MESH_READY_TIMEOUT_MS }),
    },
    {
      concurrency: config.DCM_APPLY_CONCURRENCY,
      observer: deps.lifecycleObserver,
      replicaId: config.DCM_REPLICA_ID ?? defaultReplicaId(),
      leaseTtlMs: config.DCM_LEASE_TTL_MS,
      stops: stores.stopRequests,
      tokenSeconds: config.DCM_TENANT_TOKEN_SECONDS,
      health: { get: (provider, cluster) => stores.clusterHealth.get(provider, cluster), freshMs: 3 * config.DCM_CLUSTER_HEALTH_INTERVAL_MS },
      connect: deps.connect ?? ((_cluster, secrets) => createClusterConnection(secrets.kubeconfig, config.DCM_CLUSTER_TIMEOUT_MS)),
    },
    deps.logger,
  );
  logicalClouds.setLifecycleGuard({
    checkMutable: (lc, change) => lifecycle.checkMutable(lc, change),
    exclusive: (lc, work) => lifecycle.exclusive(lc, work),
    // Terminate forgets each cluster's intermediate once the cluster is clean; a deleted logical cloud leaves none stored in any case.
    onDeleted: async (lc) => {
      await lifecycle.onDeleted(lc);
      await stores.caIntermediates.deleteAll(lc.id);
    },
  });
  const probeConnection = (secrets: ClusterSecrets) => createClusterConnection(secrets.kubeconfig, config.DCM_CLUSTER_TIMEOUT_MS);
  const clusterHealthProber = new ClusterHealthProber(clusters, stores.clusterHealth, probeConnection, deps.logger);
  const certificateRenewal = new CredentialRenewalJob(stores.credentials, stores.lifecycle, stores.logicalClouds, lifecycle, deps.logger);
  const certificateAuthority = new CertificateAuthorityService(meshCa, stores.caIntermediates, logicalClouds, stores.clusterReferences, lifecycle);
  return {
    /** Seals every stored secret again under the current key (after a key was added in front); returns how many. */
    resealSecrets: async (): Promise<number> =>
      (await clusters.resealSecrets()) +
      (await stores.credentials.resealKeys()) +
      (await stores.caRoot.resealKeys()) +
      (await stores.caIntermediates.resealKeys()),
    lifecycle,
    certificateRenewal,
    clusterHealthProber,
    clusterHealth: clusterHealthService(clusters, stores.clusterHealth, clusterHealthProber),
    projects,
    clusterProviders,
    clusters,
    logicalClouds,
    projectPolicies,
    permissions: createPermissionService(stores.permissions, logicalClouds, guard, projectPolicies),
    clusterReferences: createClusterReferenceService(stores.clusterReferences, logicalClouds, clusters, guard, projectPolicies),
    clusterQuotas: createClusterQuotaService(stores.clusterQuotas, logicalClouds, guard),
    kvPairs: createKvPairService(stores.kvPairs, logicalClouds),
    meshCa,
    certificateAuthority,
  };
}

export type Services = ReturnType<typeof createServices>;

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
  const services = createServices(stores, { ...opts, lifecycleObserver: observability.metrics.lifecycle });
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
