/**
 * Notices drift on every registered cluster with watches, not polls: one watch per cluster and
 * managed kind, selected by the DCM's `managed-by` label, so the cost does not grow with the
 * number of logical clouds. A change or deletion of a managed object schedules a check of its
 * logical cloud on that cluster (debounced: a burst of events is one check), run by the
 * DriftChecker. A watch that ends is started again with backoff, and the cluster is then
 * checked in full (resync: events may have been missed meanwhile); a long periodic full resync
 * is the backstop. Creations (ADDED, also what every new watch first lists) start no check.
 *
 * Labels are written by whoever may write the object, tenants included: an object is followed
 * only when its logical-cloud id is that of a logical cloud applied on that cluster and it lies
 * in that logical cloud's namespace (or its control-plane namespace; cluster-scoped kinds have
 * none). Any other id is looked up (at most once a second per cluster, a bounded number of ids
 * at a time) and otherwise ignored: nothing is kept of it and no check is scheduled. What is
 * kept per object is bounded per logical cloud and cluster (MAX_OBJECTS_PER_LOGICAL_CLOUD).
 */
import { PeriodicJob } from '../../jobs/periodic.js';
import type { Logger } from '../../logger.js';
import { LABEL_LOGICAL_CLOUD_ID } from '../../controllers/object-names.js';
import { GUARD_NAME } from '../../controllers/tenant-guard.js';
import type { ClusterRecord } from '../cluster-registry/cluster.service.js';
import type { CheckOutcome } from './drift-checker.js';
import { DriftCheckScheduler } from './drift-check-scheduler.js';
import { startWatch, type ClusterWatches, type WatchEvents } from './cluster-watches.js';
import { UnknownIdLookups } from './unknown-ids.js';
import {
  inPlace,
  SeenObjects,
  WATCHED_KINDS,
  contentHash,
  type ObjectPlace,
  type WatchedObject,
  type WatchEventType,
  type WatchingConnection,
} from './watched-objects.js';

export {
  MAX_OBJECTS_PER_LOGICAL_CLOUD,
  WATCHED_KINDS,
  type WatchEventType,
  type WatchingConnection,
} from './watched-objects.js';

export interface DriftWatcherOptions {
  /** Wait after an event before checking, so that a burst of events is one check. */
  debounceMs: number;
  /** Full resync of every cluster (the backstop for anything a watch missed). */
  resyncMs: number;
  /** The longest wait before a broken watch is started again (doubling from 1 s). */
  retryMaxMs: number;
  /** How often the set of registered clusters is read again (new clusters watched, removed ones no longer). */
  clusterRefreshMs: number;
  /** Checks run at once. */
  concurrency: number;
}

export interface DriftWatcherDependencies {
  clusters(): Promise<ClusterRecord[]>;
  connect(cluster: ClusterRecord): WatchingConnection;
  /** The applied logical clouds that hold objects on the cluster: their ids and namespaces. */
  logicalCloudsOn(provider: string, cluster: string): Promise<{ id: string; namespace: string }[]>;
  check(logicalCloudId: string, provider: string, cluster: string): Promise<CheckOutcome>;
  logger: Logger;
  observer?: { watchRestarted(provider: string, cluster: string, kind: string): void };
}

export { MAX_PENDING_LOOKUPS } from './unknown-ids.js';

export class DriftWatcher {
  private readonly watched = new Map<string, ClusterWatches>();
  /** The content of every followed object as last seen: a change of status alone starts no check. */
  private readonly seen = new SeenObjects();
  /** Look-ups of ids not known on a cluster. */
  private readonly lookups: UnknownIdLookups;
  private readonly checks: DriftCheckScheduler;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly resync: PeriodicJob;
  private readonly refresh: PeriodicJob;
  private started = false;
  /** What the watches of a cluster tell the watcher. */
  private readonly watchEvents: WatchEvents;

  constructor(
    private readonly deps: DriftWatcherDependencies,
    private readonly options: DriftWatcherOptions,
  ) {
    this.resync = new PeriodicJob('drift resync', () => this.resyncAll(), deps.logger);
    this.refresh = new PeriodicJob('drift cluster refresh', () => this.refreshClusters(), deps.logger);
    this.checks = new DriftCheckScheduler(deps.check, {
      concurrency: options.concurrency,
      logger: deps.logger,
      running: () => this.started,
      onIdle: () => this.settle(),
    });
    this.lookups = new UnknownIdLookups({
      delayMs: options.debounceMs,
      refreshKnown: (w) => this.refreshKnown(w),
      found: (id, w) => this.checks.schedule(id, w.provider, w.cluster, 0),
      logger: deps.logger,
      settled: () => this.settle(),
    });
    this.watchEvents = {
      event: (w, type, object, kind) => this.onEvent(w, type, object, kind),
      restarted: (w, kind, afterFailure) => {
        this.deps.observer?.watchRestarted(w.provider, w.cluster, kind);
        if (afterFailure) void this.resyncCluster(w);
      },
      resyncMs: options.resyncMs,
      retryMaxMs: options.retryMaxMs,
      logger: deps.logger,
    };
  }

  /** Watches every registered cluster and checks each of them in full once. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.refreshClusters();
    this.resync.start(this.options.resyncMs);
    this.refresh.start(this.options.clusterRefreshMs);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([this.resync.stop(), this.refresh.stop()]);
    for (const w of this.watched.values()) this.unwatch(w);
    this.watched.clear();
    this.checks.clear();
    await this.idle();
  }

  /** Resolves once no check is scheduled, queued or running (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** How many objects the watcher keeps the content of, over every cluster (tests: it is bounded). */
  keptObjects(): number {
    return this.seen.size;
  }

  /** The watches open now, by `provider/cluster` (status, tests). */
  watches(): Record<string, string[]> {
    return Object.fromEntries([...this.watched.values()].map((w) => [w.key, [...w.handles.keys()].sort()]));
  }

  /** Checks one logical cloud on every watched cluster now (its reconcile was enabled again). */
  checkLogicalCloud(logicalCloudId: string): void {
    if (!this.started) return;
    for (const w of this.watched.values()) this.checks.enqueue(logicalCloudId, w.provider, w.cluster, true);
  }

  /** Checks every applied logical cloud on every watched cluster. */
  async resyncAll(): Promise<void> {
    for (const w of this.watched.values()) await this.resyncCluster(w);
  }

  private async refreshClusters(): Promise<void> {
    const clusters = await this.deps.clusters();
    const keys = new Set<string>();
    for (const c of clusters) {
      const key = `${c.scope.provider}/${c.name}`;
      keys.add(key);
      const existing = this.watched.get(key);
      if (existing && existing.revision === c.revision) continue;
      if (existing) this.unwatch(existing); // re-registered: its kubeconfig may have changed
      await this.watchCluster(c, key);
    }
    for (const [key, w] of this.watched) {
      if (keys.has(key)) continue;
      this.unwatch(w);
      this.watched.delete(key);
    }
  }

  private async watchCluster(c: ClusterRecord, key: string): Promise<void> {
    let connection: WatchingConnection;
    try {
      connection = this.deps.connect(c);
    } catch (error) {
      this.deps.logger.warn({ err: error, cluster: key }, 'drift: the cluster cannot be watched');
      return;
    }
    const w: ClusterWatches = {
      key,
      provider: c.scope.provider!,
      cluster: c.name,
      revision: c.revision,
      connection,
      handles: new Map(),
      retryTimers: new Set(),
      stopped: false,
      known: new Map(),
      pending: new Map(),
    };
    this.watched.set(key, w);
    // The logical clouds applied there first: the watches' first events are then followed at once.
    await this.refreshKnown(w).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, cluster: key }, 'drift: the logical clouds on the cluster could not be read'),
    );
    await Promise.all(WATCHED_KINDS.map((k) => startWatch(w, k, 0, this.watchEvents)));
    await this.resyncCluster(w);
  }

  private unwatch(w: ClusterWatches): void {
    w.stopped = true;
    this.seen.forgetCluster(w.key);
    this.lookups.cancel(w);
    for (const timer of w.retryTimers) clearTimeout(timer);
    for (const handle of w.handles.values()) handle.stop();
    w.handles.clear();
    w.connection.close();
  }

  private onEvent(w: ClusterWatches, type: WatchEventType, object: WatchedObject, kind = object.kind): void {
    const key = `${w.key}|${object.metadata?.uid ?? `${kind}/${object.metadata?.name}`}`;
    const before = this.seen.get(key);
    // An object whose labels were taken off leaves the watch's selection (DELETED, without them): its logical cloud is the one seen before.
    const id = object.metadata?.labels?.[LABEL_LOGICAL_CLOUD_ID] ?? before?.logicalCloudId;
    if (!id) {
      // The cluster's tenant guard is no logical cloud's own: a change or deletion is checked (and repaired) through one applied here.
      if (type !== 'ADDED' && kind?.startsWith('ValidatingAdmissionPolicy') && object.metadata?.name === GUARD_NAME) {
        const any = w.known.keys().next();
        if (!any.done) this.checks.schedule(any.value, w.provider, w.cluster, this.options.debounceMs);
      }
      return;
    }
    const place: ObjectPlace = { kind, name: object.metadata?.name, namespace: object.metadata?.namespace };
    const namespace = w.known.get(id);
    if (namespace === undefined || !inPlace(id, namespace, place)) {
      // Not an object of a logical cloud applied here (a made-up or stale id, or out of its namespace): nothing is kept.
      if (before) {
        this.seen.forget(w.key, key);
        // It was one of a logical cloud's objects, relabelled: that logical cloud has drifted.
        if (before.logicalCloudId !== id)
          this.checks.schedule(before.logicalCloudId, w.provider, w.cluster, this.options.debounceMs);
      }
      if (namespace === undefined) this.lookups.lookUp(w, id, place, type !== 'ADDED');
      return;
    }
    if (type === 'DELETED') this.seen.forget(w.key, key);
    else {
      const hash = contentHash(object);
      this.seen.keep(w.key, key, hash, id);
      if (type === 'ADDED' || before?.hash === hash) return;
    }
    this.checks.schedule(id, w.provider, w.cluster, this.options.debounceMs);
  }

  /** Reads which logical clouds are applied on the cluster (and their namespaces); forgets what was kept of the others' objects. */
  private async refreshKnown(w: ClusterWatches): Promise<string[]> {
    const placed = await this.deps.logicalCloudsOn(w.provider, w.cluster);
    if (w.stopped) return [];
    w.known = new Map(placed.map((p) => [p.id, p.namespace]));
    this.seen.forgetAllBut(w.key, w.known);
    return placed.map((p) => p.id);
  }

  private async resyncCluster(w: ClusterWatches): Promise<void> {
    if (w.stopped) return;
    try {
      for (const id of await this.refreshKnown(w)) this.checks.enqueue(id, w.provider, w.cluster);
    } catch (error) {
      this.deps.logger.warn({ err: error, cluster: w.key }, 'drift: resync failed');
    }
  }

  private isIdle(): boolean {
    return this.checks.isIdle() && this.lookups.idle;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
