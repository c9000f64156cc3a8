/**
 * Drift (src/features/drift/): watched on every cluster, checked and repaired under the logical
 * cloud's lease. The checker runs the cluster's apply pipeline through a DriftRecorder; the
 * watcher schedules it from watch events; both follow the event bus (deleted logical clouds,
 * reconcile switched back on).
 */
import type { EventBus } from '../../jobs/event-bus.js';
import type { Logger } from '../../logger.js';
import type { LifecycleStatusStore } from '../lifecycle/lifecycle-status.store.js';
import type { LogicalCloudStore } from '../logical-clouds/logical-cloud.store.js';
import { DriftChecker, type DriftObserver, type DriftRepairTarget } from './drift-checker.js';
import type { DriftEventStore } from './drift-events.store.js';
import { DriftWatcher, type DriftWatcherDependencies } from './drift-watcher.js';
import { subscribeDrift } from './drift-subscriptions.js';

export interface DriftDependencies {
  lifecycle: Pick<DriftRepairTarget, 'exclusive' | 'reconcileCluster'>;
  statuses: Pick<LifecycleStatusStore, 'get' | 'placedOn' | 'setState' | 'events'>;
  logicalClouds: Pick<LogicalCloudStore, 'getById' | 'findWhere'>;
  driftEvents: DriftEventStore;
  clusters: DriftWatcherDependencies['clusters'];
  connect: DriftWatcherDependencies['connect'];
  events: EventBus;
  logger: Logger;
  observer?: (DriftObserver & NonNullable<DriftWatcherDependencies['observer']>) | undefined;
  options: { debounceMs: number; resyncMs: number; retryMaxMs: number; concurrency: number };
}

export function createDrift(deps: DriftDependencies) {
  const { statuses, logicalClouds } = deps;
  const checker = new DriftChecker(
    {
      status: (id) => statuses.get(id),
      logicalCloud: async (id) => (await logicalClouds.getById(id)) ?? undefined,
      exclusive: (lc, work) => deps.lifecycle.exclusive(lc, work),
      reconcileCluster: (id, reference, opts) => deps.lifecycle.reconcileCluster(id, reference, opts),
      statusChanged: (id) => statuses.events.changed(id),
      setState: (id, state) => statuses.setState(id, state),
    },
    deps.driftEvents,
    deps.logger,
    deps.observer,
  );
  const watcher = new DriftWatcher(
    {
      clusters: deps.clusters,
      connect: deps.connect,
      // With their namespaces: the watcher follows only objects of logical clouds applied there, in their namespaces.
      logicalCloudsOn: async (provider, cluster) => {
        const ids = await statuses.placedOn(provider, cluster);
        if (ids.length === 0) return [];
        const records = await logicalClouds.findWhere({}, { _id: { $in: ids } });
        return records.map((lc) => ({ id: lc.id, namespace: lc.data.namespace }));
      },
      check: (id, provider, cluster) => checker.check(id, provider, cluster),
      logger: deps.logger,
      ...(deps.observer ? { observer: deps.observer } : {}),
    },
    { ...deps.options, clusterRefreshMs: Math.min(30_000, deps.options.resyncMs) },
  );
  subscribeDrift(deps.events, watcher, deps.driftEvents);
  return { checker, watcher };
}
