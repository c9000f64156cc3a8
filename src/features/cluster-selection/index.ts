/**
 * Clusters chosen by labels (docs/cluster-selection.md): a logical cloud's spec.clusterSelector,
 * its preview, and the follower that keeps its selected references and its clusters in step with
 * the registry, the clusters' labels and the project policy.
 */
import type { Router } from 'express';
import type { OpenApiRegistry } from '../../http/openapi.js';
import type { EventBus } from '../../jobs/event-bus.js';
import type { Logger } from '../../logger.js';
import type { LeaseStore } from '../../db/lease-store.js';
import { FleetFollower, type FleetFollowerDependencies } from './cluster-selection.job.js';
import { declareClusterSelectionRoutes } from './cluster-selection.router.js';
import { ClusterSelectionService, type SelectionDependencies } from './cluster-selection.service.js';

export interface ClusterSelectionDependencies extends SelectionDependencies {
  lifecycle: FleetFollowerDependencies['lifecycle'];
  status: FleetFollowerDependencies['status'];
  events: Pick<EventBus, 'on'>;
  leases: Pick<LeaseStore, 'acquire'>;
  replicaId: string;
  /** The follower's job: its name (the lease `job:<name>`) and interval. */
  job: { name: string; intervalMs: number };
  logger: Logger;
}

export function createClusterSelection(deps: ClusterSelectionDependencies) {
  const service = new ClusterSelectionService(deps);
  const follower = new FleetFollower({
    selection: service,
    logicalClouds: deps.logicalCloudStore,
    references: deps.references,
    state: deps.state,
    lifecycle: deps.lifecycle,
    status: deps.status,
    lease: { store: deps.leases, id: `job:${deps.job.name}`, holder: deps.replicaId, ttlMs: deps.job.intervalMs },
    logger: deps.logger,
  });
  // Followed in the background: the request that changed the registry or the logical cloud does not wait for it.
  const later = (work: Promise<void>) =>
    void work.catch((error: unknown) => deps.logger.error({ err: error }, 'following the fleet failed'));
  deps.events.on('clusterRegistered', ({ provider, cluster, labels }) =>
    later(follower.clusterChanged(undefined, labels, `cluster ${provider}/${cluster} registered`)),
  );
  deps.events.on('clusterUpdated', ({ provider, cluster, before, after }) =>
    later(follower.clusterChanged(before, after, `cluster ${provider}/${cluster} relabelled`)),
  );
  deps.events.on('clusterUnregistered', ({ provider, cluster }) =>
    later(follower.clusterUnregistered(provider, cluster, `cluster ${provider}/${cluster} unregistered`)),
  );
  // A new logical cloud gets its selected references before its creation is answered (so that an apply can follow at once).
  deps.events.on('logicalCloudCreated', ({ logicalCloudId }) =>
    follower
      .logicalCloudChanged(logicalCloudId, 'logical cloud created')
      .catch((error: unknown) => deps.logger.error({ err: error }, 'following the fleet failed')),
  );
  deps.events.on('logicalCloudUpdated', ({ logicalCloudId, before, after }) => {
    const selection = (d: typeof before) => JSON.stringify([d.clusterSelector, d.clusterSelection]);
    if (selection(before) === selection(after)) return;
    return follower
      .logicalCloudChanged(logicalCloudId, 'spec.clusterSelector changed')
      .catch((error: unknown) => deps.logger.error({ err: error }, 'following the fleet failed'));
  });
  deps.events.on('logicalCloudDeleted', ({ logicalCloudId }) => follower.forget(logicalCloudId));
  return {
    service,
    follower,
    job: {
      name: deps.job.name,
      replicas: 'one' as const,
      intervalMs: deps.job.intervalMs,
      run: () => follower.sweep(),
    },
    routes: (router: Router, registry: OpenApiRegistry) => declareClusterSelectionRoutes(router, registry, service),
  };
}
