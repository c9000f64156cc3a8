/**
 * The service layer, wired: the stores over MongoDB and the services that REST and gRPC
 * share (with the controllers and jobs they use). The composition root builds it; the APIs
 * know it only as the `Services` it returns.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createClusterReferences } from './features/cluster-references/index.js';
import { createClusterQuotas } from './features/cluster-quotas/index.js';
import { createKvPairs } from './features/kv-pairs/index.js';
import { createOverallQuotas } from './features/overall-quotas/index.js';
import type { LifecycleGuard, LogicalCloudService } from './features/logical-clouds/logical-cloud.service.js';
import { createLogicalClouds } from './features/logical-clouds/index.js';
import { createProjects } from './features/projects/index.js';
import { createProjectPolicies } from './features/project-policies/index.js';
import { createClusterHealth, createClusterRegistry } from './features/cluster-registry/index.js';
import { createCertificateAuthority } from './features/certificate-authority/index.js';
import { createDrift } from './features/drift/index.js';
import type { DriftObserver } from './features/drift/drift-checker.js';
import type { DriftWatcherDependencies } from './features/drift/drift-watcher.js';
import { createUserPermissions } from './features/user-permissions/index.js';
import type { Logger } from './logger.js';
import type { Config } from './config.js';
import { LifecycleService } from './features/lifecycle/lifecycle.service.js';
import { CredentialRenewalJob } from './features/lifecycle/credential-renewal.job.js';
import type { ClusterGatewayProvider } from './kubernetes/cluster-gateway.js';
import { KubeClusterGatewayProvider } from './kubernetes/kube-cluster-gateway.js';
import { EventBus } from './jobs/event-bus.js';
import { registerBackgroundJobs } from './background-jobs.js';
import { createClusterControllers } from './cluster-controllers.js';
import type { SecretCipher } from './security/secret-cipher.js';
import type { Stores } from './stores.js';
import type { LifecycleObserver } from './features/lifecycle/lifecycle.service.js';
import { MeshCertificateAuthority } from './features/certificate-authority/mesh-ca.js';
import { ClusterHealthProber } from './features/cluster-registry/cluster-health.job.js';
import { createClusterSelection } from './features/cluster-selection/index.js';

/** A replica's default name: host, process and a random suffix (unique even for two DCMs in one process). */
const defaultReplicaId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

export type ServiceConfig = Pick<
  Config,
  | 'DCM_CLUSTER_TIMEOUT_MS'
  | 'DCM_APPLY_CONCURRENCY'
  | 'DCM_OPERATIONS_CONCURRENCY'
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
  | 'DCM_RESERVED_NAMESPACES'
  | 'DCM_DRIFT_DEBOUNCE_MS'
  | 'DCM_DRIFT_WATCH_RETRY_MAX_MS'
  | 'DCM_DRIFT_RESYNC_MS'
  | 'DCM_DRIFT_CONCURRENCY'
  | 'DCM_DRIFT_ENABLED'
  | 'DCM_CERT_RENEWAL_INTERVAL_MS'
  | 'DCM_SELECTION_INTERVAL_MS'
  | 'DCM_BUDGET_REBALANCE_MS'
>;

export interface ServiceDependencies {
  config: ServiceConfig;
  logger: Logger;
  /** Seals and opens secrets at rest. */
  cipher: SecretCipher;
  /** The one way to reach clusters (apply, drift, the health probe); tests may substitute it to reach an edge case. */
  gateways?: ClusterGatewayProvider;
  /** Told of every finished apply/terminate (metrics); createDcm passes its own. */
  lifecycleObserver?: LifecycleObserver;
  /** Told of drift found and of watches started again (metrics); createDcm passes its own. */
  driftObserver?: DriftObserver & NonNullable<DriftWatcherDependencies['observer']>;
  /** Test seam: runs between creating a tenant CSR on a cluster and reading it back for approval. */
  beforeCsrApproval?: (csrName: string) => Promise<void>;
}

export function createServices(stores: Stores, deps: ServiceDependencies) {
  // Parents and children consult each other through closures, called only after wiring.
  // The lifecycle is built after the services it guards: they reach it through this provider, called only after wiring.
  const guard = (): LifecycleGuard => lifecycle;
  // Cross-feature effects (a logical cloud deleted, a cluster leaving the registry): each feature subscribes to what it keeps.
  const events = new EventBus();
  const replicaId = deps.config.DCM_REPLICA_ID ?? defaultReplicaId();

  const projects = createProjects({
    store: stores.projects,
    hasLogicalClouds: (name) => logicalClouds.hasLogicalClouds(name),
  }).service;
  const {
    providers: clusterProviders,
    clusters,
    clm: clusterClm,
  } = createClusterRegistry({
    providerStore: stores.clusterProviders,
    clusterStore: stores.clusters,
    kvPairStore: stores.clusterKvPairs,
    events,
    cipher: deps.cipher,
    options: { allowInsecureClusters: deps.config.DCM_ALLOW_INSECURE_CLUSTERS },
  });
  const projectPolicies = createProjectPolicies({ store: stores.projectPolicies, projects }).service;
  const logicalClouds: LogicalCloudService = createLogicalClouds({
    stores,
    projects,
    policies: projectPolicies,
    namespaceClaims: stores.namespaceClaims,
    guard,
    events,
    reservedNamespaces: deps.config.DCM_RESERVED_NAMESPACES,
  }).service;
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
      replicaId,
    },
    deps.logger,
  );
  const gateways = deps.gateways ?? new KubeClusterGatewayProvider(config.DCM_CLUSTER_TIMEOUT_MS);
  // Overall quotas: one budget split into a ResourceQuota per cluster (the pipeline writes the last split, the rebalancer moves it).
  const overallQuotas = createOverallQuotas({
    stores,
    logicalClouds,
    guard,
    events,
    policies: projectPolicies,
    cluster: async (provider, name) => {
      const cluster = await clusters.get(provider, name);
      return {
        version: `${cluster.id}/${cluster.revision}`,
        connect: () => gateways.gatewayFor(cluster, clusters.secretsOf(cluster)),
      };
    },
    exclusive: (lc, work) => lifecycle.exclusive(lc, work),
    logger: deps.logger,
    replicaId,
    rebalanceMs: config.DCM_BUDGET_REBALANCE_MS,
  });
  const lifecycle = new LifecycleService(
    logicalClouds,
    stores,
    clusters,
    stores.lifecycle,
    stores.credentials,
    stores.leases,
    projectPolicies,
    createClusterControllers({
      config,
      credentials: stores.credentials,
      meshCa,
      budgets: overallQuotas.budgets,
      ...(deps.beforeCsrApproval ? { beforeCsrApproval: deps.beforeCsrApproval } : {}),
    }),
    {
      concurrency: config.DCM_APPLY_CONCURRENCY,
      operationsConcurrency: config.DCM_OPERATIONS_CONCURRENCY,
      observer: deps.lifecycleObserver,
      replicaId,
      leaseTtlMs: config.DCM_LEASE_TTL_MS,
      stops: stores.stopRequests,
      tokenSeconds: config.DCM_TENANT_TOKEN_SECONDS,
      health: {
        get: (provider, cluster) => stores.clusterHealth.get(provider, cluster),
        freshMs: 3 * config.DCM_CLUSTER_HEALTH_INTERVAL_MS,
      },
      gateways,
      drift: stores.driftEvents,
      selection: stores.clusterSelections,
      overallQuotas: overallQuotas.status,
      overallQuotaRefusal: overallQuotas.applyRefusal,
      events,
    },
    deps.logger,
  );
  // A deleted logical cloud leaves no intermediate CA stored (terminate forgets each cluster's once the cluster is clean).
  events.on('logicalCloudDeleted', ({ logicalCloudId }) => stores.caIntermediates.deleteAll(logicalCloudId));
  const clusterHealthProber = new ClusterHealthProber(clusters, stores.clusterHealth, gateways, deps.logger);
  const certificateRenewal = new CredentialRenewalJob(
    stores.credentials,
    stores.lifecycle,
    stores.logicalClouds,
    lifecycle,
    deps.logger,
  );
  const drift = createDrift({
    lifecycle,
    statuses: stores.lifecycle,
    logicalClouds: stores.logicalClouds,
    driftEvents: stores.driftEvents,
    clusters: () => clusters.all(),
    connect: (cluster) => gateways.gatewayFor(cluster, clusters.secretsOf(cluster)),
    events,
    logger: deps.logger,
    observer: deps.driftObserver,
    options: {
      debounceMs: config.DCM_DRIFT_DEBOUNCE_MS,
      resyncMs: config.DCM_DRIFT_RESYNC_MS,
      retryMaxMs: config.DCM_DRIFT_WATCH_RETRY_MAX_MS,
      concurrency: config.DCM_DRIFT_CONCURRENCY,
    },
  });
  const driftWatcher = drift.watcher;
  const clusterSelection = createClusterSelection({
    stores,
    services: { logicalClouds, clusters, policies: projectPolicies, lifecycle },
    events,
    replicaId,
    logger: deps.logger,
    intervals: { healthMs: config.DCM_CLUSTER_HEALTH_INTERVAL_MS, selectionMs: config.DCM_SELECTION_INTERVAL_MS },
  });
  // Background work, started and stopped as a whole by main.ts.
  const jobs = registerBackgroundJobs({
    config,
    logger: deps.logger,
    leases: stores.leases,
    replicaId,
    lifecycle,
    certificateRenewal,
    clusterHealthProber,
    clusterSelectionJob: clusterSelection.job,
    overallQuotaRebalancer: { rebalancer: overallQuotas.rebalancer, passIntervalMs: overallQuotas.passIntervalMs },
    driftWatcher,
  });
  const certificateAuthority = createCertificateAuthority({
    meshCa,
    intermediates: stores.caIntermediates,
    logicalClouds,
    references: stores.clusterReferences,
    lifecycle,
  }).service;
  return {
    /** Seals every stored secret again under the current key (after a key was added in front); returns how many. */
    resealSecrets: async (): Promise<number> =>
      (await clusters.resealSecrets()) +
      (await stores.credentials.resealKeys()) +
      (await stores.caRoot.resealKeys()) +
      (await stores.caIntermediates.resealKeys()),
    lifecycle,
    jobs,
    events,
    certificateRenewal,
    clusterHealthProber,
    driftWatcher,
    clusterHealth: createClusterHealth({ clusters, store: stores.clusterHealth, prober: clusterHealthProber, events })
      .service,
    projects,
    clusterProviders,
    clusters,
    clusterClm,
    logicalClouds,
    projectPolicies,
    permissions: createUserPermissions({ store: stores.permissions, logicalClouds, guard, policies: projectPolicies })
      .service,
    clusterReferences: createClusterReferences({
      store: stores.clusterReferences,
      logicalClouds,
      clusters,
      guard,
      policies: projectPolicies,
    }).service,
    clusterQuotas: createClusterQuotas({ store: stores.clusterQuotas, logicalClouds, guard }).service,
    overallQuotas: overallQuotas.service,
    kvPairs: createKvPairs({ store: stores.kvPairs, logicalClouds }).service,
    clusterSelection: clusterSelection.service,
    meshCa,
    certificateAuthority,
  };
}

export type Services = ReturnType<typeof createServices>;
