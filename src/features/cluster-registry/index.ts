/**
 * The cluster registry: cluster providers and their clusters (admin kubeconfig and CA key
 * sealed at rest), and each cluster's health, with their REST routes.
 */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { EventBus } from '../../jobs/event-bus.js';
import type { SecretCipher } from '../../security/secret-cipher.js';
import type { ClusterHealthProber } from './cluster-health.job.js';
import { declareClusterHealthRoutes } from './cluster-health.router.js';
import { clusterHealthService } from './cluster-health.service.js';
import type { ClusterHealthStore } from './cluster-health.store.js';
import { createClusterProviderService } from './cluster-provider.service.js';
import type { ClusterProviderStore } from './cluster-provider.store.js';
import { clusterCrud, declareClusterRegistryRoutes } from './cluster.router.js';
import { clusterProviderCrud } from './cluster-provider.router.js';
import { ClusterService, type ClusterServiceOptions } from './cluster.service.js';
import type { ClusterStore } from './cluster.store.js';
import { ClusterKvPairService } from './cluster-kv-pair.service.js';
import type { ClusterKvPairStore } from './cluster-kv-pair.store.js';
import { ClusterLabelService } from './cluster-label.service.js';

export interface ClusterRegistryDependencies {
  providerStore: ClusterProviderStore;
  clusterStore: ClusterStore;
  /** clm's kv-pairs of a cluster. */
  kvPairStore: ClusterKvPairStore;
  /** Asked whether a cluster may leave the registry (a logical cloud references it, or has objects on it); told when it has. */
  events: Pick<EventBus, 'objection' | 'emit' | 'on'>;
  cipher: SecretCipher;
  options?: ClusterServiceOptions;
}

export function createClusterRegistry(deps: ClusterRegistryDependencies) {
  const providers = createClusterProviderService(deps.providerStore, (provider) => clusters.hasClusters(provider));
  const clusters: ClusterService = new ClusterService(
    deps.clusterStore,
    providers,
    deps.events,
    deps.cipher,
    deps.options,
  );
  const clm = {
    labels: new ClusterLabelService(deps.clusterStore, clusters, deps.events),
    kvPairs: new ClusterKvPairService(deps.kvPairStore, clusters),
  };
  // A cluster that left the registry keeps no kv-pairs.
  deps.events.on('clusterUnregistered', ({ provider, cluster }) => clm.kvPairs.forget(provider, cluster));
  return {
    providers,
    clusters,
    /** clm's dialect: a cluster's labels by name, its kv-pairs. */
    clm,
    crud: { providers: clusterProviderCrud(providers), clusters: clusterCrud(clusters) },
    routes: (router: Router, registry: OpenApiRegistry) =>
      declareClusterRegistryRoutes(router, registry, providers, clusters, clm),
  };
}

/** A cluster's health (GET …/clusters/{c}/status): the last probe, or a probe now for admins. */
export function createClusterHealth(deps: {
  clusters: Pick<ClusterService, 'get'>;
  store: Pick<ClusterHealthStore, 'get' | 'forget'>;
  prober: Pick<ClusterHealthProber, 'probeNamed'>;
  events: Pick<EventBus, 'on'>;
}) {
  // A cluster that left the registry keeps no health record.
  deps.events.on('clusterUnregistered', ({ provider, cluster }) => deps.store.forget(provider, cluster));
  const service = clusterHealthService(deps.clusters, deps.store, deps.prober);
  return {
    service,
    routes: (router: Router, registry: OpenApiRegistry) => declareClusterHealthRoutes(router, registry, service),
  };
}
