/**
 * The one place where the DCM is wired: stores → services → REST routes (and later gRPC and
 * background workers). Nothing else constructs a store or a service.
 */
import type { Db } from 'mongodb';
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
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';

export const VERSION = '0.1.0';

export function createStores(db: Db) {
  return {
    projects: new NamedRecordStore<Described>(db, 'projects', []),
    clusterProviders: new NamedRecordStore<Described>(db, 'clusterProviders', []),
    clusters: new NamedRecordStore<ClusterData>(db, 'clusters', ['provider']),
    logicalClouds: new NamedRecordStore<LogicalCloudData>(db, 'logicalClouds', ['project']),
    permissions: new NamedRecordStore<PermissionData>(db, 'userPermissions', ['logicalCloudId']),
    clusterReferences: new NamedRecordStore<ClusterReferenceData>(db, 'clusterReferences', ['logicalCloudId']),
    clusterQuotas: new NamedRecordStore<ClusterQuotaData>(db, 'clusterQuotas', ['logicalCloudId']),
    kvPairs: new NamedRecordStore<KvPairData>(db, 'kvPairs', ['logicalCloudId']),
  };
}

export type Stores = ReturnType<typeof createStores>;

export function createServices(stores: Stores) {
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
  const clusters: ClusterService = new ClusterService(stores.clusters, clusterProviders, (provider, cluster) =>
    stores.clusterReferences.count({ 'data.clusterProvider': provider, 'data.cluster': cluster }).then((n) => n > 0),
  );
  const logicalClouds: LogicalCloudService = new LogicalCloudService(stores, projects);
  return {
    projects,
    clusterProviders,
    clusters,
    logicalClouds,
    permissions: createPermissionService(stores.permissions, logicalClouds, guard),
    clusterReferences: createClusterReferenceService(stores.clusterReferences, logicalClouds, clusters, guard),
    clusterQuotas: createClusterQuotaService(stores.clusterQuotas, logicalClouds, guard),
    kvPairs: createKvPairService(stores.kvPairs, logicalClouds),
  };
}

export type Services = ReturnType<typeof createServices>;

export interface Dcm {
  app: ReturnType<typeof createApp>;
  services: Services;
  stores: Stores;
}

export async function createDcm(opts: { db: Db; logger: Logger; bodyLimit: string; ready: () => Promise<boolean> }): Promise<Dcm> {
  const stores = createStores(opts.db);
  for (const store of Object.values(stores)) await store.init();
  const services = createServices(stores);
  const app = createApp({
    logger: opts.logger,
    bodyLimit: opts.bodyLimit,
    version: VERSION,
    ready: opts.ready,
    routes: [
      (r, reg) => declareProjectRoutes(r, reg, services.projects),
      (r, reg) => declareClusterRegistryRoutes(r, reg, services.clusterProviders, services.clusters),
      (r, reg) => declareLogicalCloudRoutes(r, reg, services.logicalClouds),
      (r, reg) => declareClusterReferenceRoutes(r, reg, services.clusterReferences),
      (r, reg) => declarePermissionRoutes(r, reg, services.permissions),
      (r, reg) => declareClusterQuotaRoutes(r, reg, services.clusterQuotas),
      (r, reg) => declareKvPairRoutes(r, reg, services.kvPairs),
    ],
  });
  return { app, services, stores };
}
