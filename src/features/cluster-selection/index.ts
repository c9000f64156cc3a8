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
import type { NamedRecordStore } from '../../db/named-record-store.js';
import type { ClusterReferenceData } from '../../domain/logical-cloud.js';
import type { ClusterHealthStore } from '../cluster-registry/cluster-health.store.js';
import type { LifecycleStatusStore } from '../lifecycle/lifecycle-status.store.js';
import type { LogicalCloudStore } from '../logical-clouds/logical-cloud.store.js';
import type { ClusterSelectionStore } from './cluster-selection.store.js';
import { FleetFollower, type FleetFollowerDependencies } from './cluster-selection.job.js';
import { declareClusterSelectionRoutes } from './cluster-selection.router.js';
import { ClusterSelectionService, type SelectionDependencies } from './cluster-selection.service.js';

/** The follower's job: the lease `job:<name>` of the replica that starts the owed applies. */
const JOB_NAME = 'following the fleet';

export interface ClusterSelectionDependencies {
  stores: {
    logicalClouds: LogicalCloudStore;
    clusterReferences: NamedRecordStore<ClusterReferenceData>;
    clusterSelections: ClusterSelectionStore;
    clusterHealth: Pick<ClusterHealthStore, 'all'>;
    lifecycle: Pick<LifecycleStatusStore, 'get'>;
    leases: Pick<LeaseStore, 'acquire'>;
  };
  services: Pick<SelectionDependencies, 'logicalClouds' | 'clusters' | 'policies'> & {
    lifecycle: FleetFollowerDependencies['lifecycle'];
  };
  events: Pick<EventBus, 'on'>;
  replicaId: string;
  logger: Logger;
  /** DCM_CLUSTER_HEALTH_INTERVAL_MS (a probe is fresh for three) and DCM_SELECTION_INTERVAL_MS. */
  intervals: { healthMs: number; selectionMs: number };
}

export function createClusterSelection(deps: ClusterSelectionDependencies) {
  const { stores, services, intervals } = deps;
  const service = new ClusterSelectionService({
    ...services,
    logicalCloudStore: stores.logicalClouds,
    references: stores.clusterReferences,
    health: { all: () => stores.clusterHealth.all(), freshMs: 3 * intervals.healthMs },
    state: stores.clusterSelections,
  });
  const follower = new FleetFollower({
    selection: service,
    logicalClouds: stores.logicalClouds,
    references: stores.clusterReferences,
    state: stores.clusterSelections,
    lifecycle: services.lifecycle,
    status: stores.lifecycle,
    lease: { store: stores.leases, id: `job:${JOB_NAME}`, holder: deps.replicaId, ttlMs: intervals.selectionMs },
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
  // A new logical cloud gets its selected references before its creation is answered (so that an apply can follow at once);
  // one without a selector has nothing to follow (no lease, no reads: creates stay as cheap as before selection existed).
  deps.events.on('logicalCloudCreated', ({ logicalCloudId, selects }) => {
    if (!selects) return;
    return follower
      .logicalCloudChanged(logicalCloudId, 'logical cloud created')
      .catch((error: unknown) => deps.logger.error({ err: error }, 'following the fleet failed'));
  });
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
      name: JOB_NAME,
      replicas: 'one' as const,
      intervalMs: intervals.selectionMs,
      run: () => follower.sweep(),
    },
    routes: (router: Router, registry: OpenApiRegistry) => declareClusterSelectionRoutes(router, registry, service),
  };
}
