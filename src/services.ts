/**
 * The service layer, wired: the stores over MongoDB and the services that REST and gRPC
 * share (with the controllers and jobs they use). The composition root builds it; the APIs
 * know it only as the `Services` it returns.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import { LeaseStore } from './db/lease-store.js';
import { NamedRecordStore } from './db/named-record-store.js';
import { createClusterReferenceService } from './features/cluster-references/cluster-references.router.js';
import { createClusterQuotaService } from './features/cluster-quotas/cluster-quotas.router.js';
import { ClusterService, type ClusterData } from './features/cluster-registry/cluster.service.js';
import { createKvPairService } from './features/kv-pairs/kv-pairs.router.js';
import type { ClusterQuotaData, ClusterReferenceData, KvPairData, LogicalCloudData, PermissionData } from './features/logical-clouds/logical-cloud.model.js';
import { LogicalCloudService, type LifecycleGuard } from './features/logical-clouds/logical-cloud.service.js';
import type { Described } from './features/metadata.js';
import { TopLevelService } from './features/top-level.service.js';
import { createPermissionService } from './features/user-permissions/user-permissions.router.js';
import type { Logger } from './logger.js';
import type { Config } from './config.js';
import { NamespaceController } from './controllers/namespace.controller.js';
import { IsolationController } from './controllers/isolation.controller.js';
import { QuotaController } from './controllers/quota.controller.js';
import { RbacController } from './controllers/rbac.controller.js';
import { UserController } from './controllers/user.controller.js';
import { CredentialsStore } from './features/lifecycle/credentials.store.js';
import { LifecycleStatusStore } from './features/lifecycle/lifecycle-status.store.js';
import { LifecycleService } from './features/lifecycle/lifecycle.service.js';
import { CredentialRenewalJob } from './features/lifecycle/credential-renewal.job.js';
import { createClusterGateway, type ClusterGateway } from './kubernetes/cluster-gateway.js';
import type { ClusterRecord, ClusterSecrets } from './features/cluster-registry/cluster.service.js';
import { DriftChecker, type DriftObserver } from './features/drift/drift-checker.js';
import { DriftEventStore } from './features/drift/drift-events.store.js';
import { reconcilePaused } from './features/logical-clouds/logical-cloud.model.js';
import { DriftWatcher, type DriftWatcherDependencies } from './features/drift/drift-watcher.js';
import type { SecretCipher } from './security/secret-cipher.js';
import type { LifecycleObserver } from './features/lifecycle/lifecycle.service.js';
import { CaController } from './controllers/ca.controller.js';
import { ServiceMeshController } from './controllers/service-mesh.controller.js';
import { CertificateAuthorityService } from './features/certificate-authority/certificate-authority.service.js';
import { IntermediateCaStore } from './features/certificate-authority/intermediate-ca.store.js';
import { MeshCertificateAuthority } from './features/certificate-authority/mesh-ca.js';
import { RootCaStore } from './features/certificate-authority/root-ca.store.js';
import { NamespaceClaimStore } from './features/logical-clouds/namespace-claims.store.js';
import { StopRequestStore } from './features/lifecycle/stop-requests.store.js';
import { ClusterHealthProber } from './features/cluster-registry/cluster-health.job.js';
import { clusterHealthService } from './features/cluster-registry/cluster-health.router.js';
import { ClusterHealthStore } from './features/cluster-registry/cluster-health.store.js';
import { ProjectPolicyService } from './features/project-policies/project-policy.service.js';
import { ProjectPolicyStore } from './features/project-policies/project-policy.store.js';


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
    driftEvents: new DriftEventStore(db),
  };
}

export type Stores = ReturnType<typeof createStores>;

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
>;

export interface ServiceDependencies {
  config: ServiceConfig;
  logger: Logger;
  /** Seals and opens secrets at rest. */
  cipher: SecretCipher;
  /** The one place that reaches clusters; tests may substitute it to reach an edge case. */
  connect?: (cluster: ClusterRecord, secrets: ClusterSecrets) => ClusterGateway;
  /** Told of every finished apply/terminate (metrics); createDcm passes its own. */
  lifecycleObserver?: LifecycleObserver;
  /** Told of drift found and of watches started again (metrics); createDcm passes its own. */
  driftObserver?: DriftObserver & NonNullable<DriftWatcherDependencies['observer']>;
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
  const logicalClouds: LogicalCloudService = new LogicalCloudService(stores, projects, projectPolicies, stores.namespaceClaims, deps.config.DCM_RESERVED_NAMESPACES);
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
  const connect = deps.connect ?? ((_cluster: ClusterRecord, secrets: ClusterSecrets) => createClusterGateway(secrets.kubeconfig, config.DCM_CLUSTER_TIMEOUT_MS));
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
      isolation: new IsolationController(),
      ca: new CaController(meshCa, config.DCM_NAMESPACE_DELETE_TIMEOUT_MS),
      mesh: new ServiceMeshController({ istioVersion: config.DCM_MESH_ISTIO_VERSION, readyTimeoutMs: config.DCM_MESH_READY_TIMEOUT_MS }),
    },
    {
      concurrency: config.DCM_APPLY_CONCURRENCY,
      operationsConcurrency: config.DCM_OPERATIONS_CONCURRENCY,
      observer: deps.lifecycleObserver,
      replicaId: config.DCM_REPLICA_ID ?? defaultReplicaId(),
      leaseTtlMs: config.DCM_LEASE_TTL_MS,
      stops: stores.stopRequests,
      tokenSeconds: config.DCM_TENANT_TOKEN_SECONDS,
      health: { get: (provider, cluster) => stores.clusterHealth.get(provider, cluster), freshMs: 3 * config.DCM_CLUSTER_HEALTH_INTERVAL_MS },
      connect,
      drift: stores.driftEvents,
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
      await stores.driftEvents.deleteAll(lc.id);
    },
    // Reconcile enabled again: what was only reported is restored now, not at the next resync.
    onUpdated: (lc, before, after) => {
      if (reconcilePaused(before) && !reconcilePaused(after)) driftWatcher.checkLogicalCloud(lc.id);
    },
  });
  const probeConnection = (secrets: ClusterSecrets) => createClusterGateway(secrets.kubeconfig, config.DCM_CLUSTER_TIMEOUT_MS);
  const clusterHealthProber = new ClusterHealthProber(clusters, stores.clusterHealth, probeConnection, deps.logger);
  const certificateRenewal = new CredentialRenewalJob(stores.credentials, stores.lifecycle, stores.logicalClouds, lifecycle, deps.logger);
  // Drift: watched on every cluster, checked and repaired under the logical cloud's lease (src/features/drift/).
  const driftChecker = new DriftChecker(
    {
      status: (id) => stores.lifecycle.get(id),
      logicalCloud: async (id) => (await stores.logicalClouds.getById(id)) ?? undefined,
      exclusive: (lc, work) => lifecycle.exclusive(lc, work),
      reconcileCluster: (id, reference, opts) => lifecycle.reconcileCluster(id, reference, opts),
      statusChanged: (id) => stores.lifecycle.events.changed(id),
      setState: async (id, state) => {
        const doc = await stores.lifecycle.get(id);
        if (doc) await stores.lifecycle.put({ ...doc, state });
      },
    },
    stores.driftEvents,
    deps.logger,
    deps.driftObserver,
  );
  const driftWatcher = new DriftWatcher(
    {
      clusters: () => clusters.all(),
      connect: (cluster) => connect(cluster, clusters.secretsOf(cluster)),
      // With their namespaces: the watcher follows only objects of logical clouds applied there, in their namespaces.
      logicalCloudsOn: async (provider, cluster) => {
        const ids = await stores.lifecycle.placedOn(provider, cluster);
        if (ids.length === 0) return [];
        const records = await stores.logicalClouds.findWhere({}, { _id: { $in: ids } });
        return records.map((lc) => ({ id: lc.id, namespace: lc.data.namespace }));
      },
      check: (id, provider, cluster) => driftChecker.check(id, provider, cluster),
      logger: deps.logger,
      ...(deps.driftObserver ? { observer: deps.driftObserver } : {}),
    },
    {
      debounceMs: config.DCM_DRIFT_DEBOUNCE_MS,
      resyncMs: config.DCM_DRIFT_RESYNC_MS,
      retryMaxMs: config.DCM_DRIFT_WATCH_RETRY_MAX_MS,
      clusterRefreshMs: Math.min(30_000, config.DCM_DRIFT_RESYNC_MS),
      concurrency: config.DCM_DRIFT_CONCURRENCY,
    },
  );
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
    driftWatcher,
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
