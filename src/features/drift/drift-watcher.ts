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
import { createHash } from 'node:crypto';
import { PeriodicJob } from '../../jobs/periodic.js';
import type { Logger } from '../../logger.js';
import { LABEL_LOGICAL_CLOUD_ID, MANAGED_BY, MANAGED_BY_VALUE, controlPlaneNamespace } from '../../controllers/object-names.js';
import { GUARD_NAME } from '../../controllers/tenant-guard.js';
import { ISTIO_API_VERSION, ISTIO_KIND, ISTIO_OPERATOR_API_VERSION, ISTIO_OPERATOR_KIND } from '../../controllers/service-mesh.controller.js';
import type { ClusterRecord } from '../cluster-registry/cluster.service.js';
import type { CheckOutcome } from './drift-checker.js';

/** The kinds the DCM manages on a cluster (each carries the managed-by label). */
export const WATCHED_KINDS = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  // The cluster's tenant guard (no logical cloud's own: a change is checked through one logical cloud on the cluster).
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy' },
  { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
  { apiVersion: ISTIO_API_VERSION, kind: ISTIO_KIND },
  { apiVersion: ISTIO_OPERATOR_API_VERSION, kind: ISTIO_OPERATOR_KIND },
] as const;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface WatchedObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: unknown };
  [field: string]: unknown;
}

/**
 * What of an object can be drift: everything but its status and the bookkeeping the API server
 * keeps. A quota's usage or a namespace's phase changes often and is nobody's drift.
 */
function contentHash(object: WatchedObject): string {
  const { status: _status, metadata, ...rest } = object;
  const kept = { labels: metadata?.labels, annotations: metadata?.annotations, deleting: metadata?.deletionTimestamp !== undefined, rest };
  return createHash('sha1').update(JSON.stringify(kept)).digest('base64');
}

/** What the watcher needs of a cluster connection. */
export interface WatchingConnection {
  watch(
    apiVersion: string,
    kind: string,
    opts: { labelSelector?: string },
    handlers: { event(type: WatchEventType, object: WatchedObject): void; closed(error?: Error): void },
  ): Promise<{ stop(): void }>;
  close(): void;
}

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

interface ClusterWatches {
  key: string;
  provider: string;
  cluster: string;
  revision: number;
  connection: WatchingConnection;
  handles: Map<string, { stop(): void }>;
  retryTimers: Set<NodeJS.Timeout>;
  stopped: boolean;
  /** The logical clouds applied on the cluster as last read (id → namespace): only their objects are followed. */
  known: Map<string, string>;
  /** Ids not known when an event that would start a check named them, with where that object was: checked if a look-up finds them. */
  pending: Map<string, ObjectPlace>;
  /** A look-up of `known` waiting (its timer) or running; none: undefined. */
  lookup?: { timer?: NodeJS.Timeout };
}

/** Where an object is, as far as its logical cloud's namespace is concerned. */
interface ObjectPlace {
  kind: string | undefined;
  name: string | undefined;
  namespace: string | undefined;
}

/** Objects of one logical cloud on one cluster whose content the watcher keeps; beyond, a change of another one always starts a check. */
export const MAX_OBJECTS_PER_LOGICAL_CLOUD = 2000;
/** Unknown ids one cluster's look-up takes at most; more are dropped (the next resync checks what is there). */
export const MAX_PENDING_LOOKUPS = 100;
/** The least wait before unknown ids are looked up (what a flood of made-up ids costs: one read per cluster and second). */
const LOOKUP_MIN_MS = 1000;

/** Whether the object lies where the logical cloud's objects lie: its namespace or its control-plane namespace (cluster-scoped kinds: anywhere). */
function inPlace(id: string, namespace: string, place: ObjectPlace): boolean {
  const allowed = [namespace, controlPlaneNamespace({ logicalCloudId: id })];
  if (place.namespace) return allowed.includes(place.namespace);
  if (place.kind === 'Namespace') return allowed.includes(place.name ?? '');
  return true;
}

const SELECTOR = `${MANAGED_BY}=${MANAGED_BY_VALUE}`;
/** A check whose logical cloud is busy (an operation holds its lease) is tried again after this long. */
const BUSY_RETRY_MS = 2000;

export class DriftWatcher {
  private readonly watched = new Map<string, ClusterWatches>();
  /** The content of every watched object as last seen, by cluster and uid: a change of status alone starts no check. */
  private readonly seen = new Map<string, { hash: string; logicalCloudId: string }>();
  /** How many objects `seen` keeps per `cluster|logical cloud id` (at most MAX_OBJECTS_PER_LOGICAL_CLOUD). */
  private readonly kept = new Map<string, number>();
  /** Look-ups of unknown ids waiting or running. */
  private lookups = 0;
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly queue: { id: string; provider: string; cluster: string }[] = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly resync: PeriodicJob;
  private readonly refresh: PeriodicJob;
  private started = false;

  constructor(
    private readonly deps: DriftWatcherDependencies,
    private readonly options: DriftWatcherOptions,
  ) {
    this.resync = new PeriodicJob('drift resync', () => this.resyncAll(), deps.logger);
    this.refresh = new PeriodicJob('drift cluster refresh', () => this.refreshClusters(), deps.logger);
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
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    this.queue.length = 0;
    this.queued.clear();
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
    for (const w of this.watched.values()) this.enqueue(logicalCloudId, w.provider, w.cluster, true);
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
    await this.refreshKnown(w).catch((error: unknown) => this.deps.logger.warn({ err: error, cluster: key }, 'drift: the logical clouds on the cluster could not be read'));
    await Promise.all(WATCHED_KINDS.map((k) => this.startWatch(w, k, 0)));
    await this.resyncCluster(w);
  }

  private unwatch(w: ClusterWatches): void {
    w.stopped = true;
    for (const key of this.seen.keys()) if (key.startsWith(`${w.key}|`)) this.seen.delete(key);
    for (const key of this.kept.keys()) if (key.startsWith(`${w.key}|`)) this.kept.delete(key);
    if (w.lookup?.timer) {
      // A look-up not started yet never will be; one running ends by itself.
      clearTimeout(w.lookup.timer);
      w.lookup = undefined;
      this.lookups--;
    }
    w.pending.clear();
    for (const timer of w.retryTimers) clearTimeout(timer);
    for (const handle of w.handles.values()) handle.stop();
    w.handles.clear();
    w.connection.close();
  }

  /** Starts (or restarts, `attempt` > 0) the watch of one kind; true once it runs. */
  private async startWatch(w: ClusterWatches, k: (typeof WATCHED_KINDS)[number], attempt: number): Promise<boolean> {
    if (w.stopped) return false;
    let ended = false;
    const retry = (error?: Error) => {
      ended = true;
      if (w.stopped) return;
      w.handles.delete(k.kind);
      this.scheduleRestart(w, k, attempt, error);
    };
    try {
      const handle = await w.connection.watch(k.apiVersion, k.kind, { labelSelector: SELECTOR }, {
        event: (type, object) => this.onEvent(w, type, object, k.kind),
        closed: (error) => retry(error),
      });
      if (w.stopped) {
        handle.stop();
        return false;
      }
      if (ended) return false; // it failed before it ran (closed was called): the restart is scheduled
      w.handles.set(k.kind, handle);
      return true;
    } catch (error) {
      if (!ended) retry(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }

  /**
   * A watch the server ended in the normal way (its timeout) starts again at once; after a
   * failure it waits, doubling up to retryMaxMs, and the cluster is then checked in full (events
   * may have been missed). A kind the cluster does not serve (404: no Istio CRD) is tried again
   * rarely, at the resync interval or every 5 minutes, whichever is sooner.
   */
  private scheduleRestart(w: ClusterWatches, k: (typeof WATCHED_KINDS)[number], attempt: number, error?: Error): void {
    const notServed = (error as { statusCode?: unknown } | undefined)?.statusCode === 404;
    const delay = !error ? 0 : notServed ? Math.min(this.options.resyncMs, 300_000) : Math.min(this.options.retryMaxMs, 1000 * 2 ** Math.min(attempt, 10));
    if (error && !notServed) this.deps.logger.debug({ cluster: w.key, kind: k.kind, err: error, retryInMs: delay }, 'drift: watch ended');
    const timer = setTimeout(() => {
      w.retryTimers.delete(timer);
      void this.startWatch(w, k, error ? attempt + 1 : 0).then((running) => {
        if (!running) return;
        this.deps.observer?.watchRestarted(w.provider, w.cluster, k.kind);
        if (error) void this.resyncCluster(w);
      });
    }, delay);
    timer.unref();
    w.retryTimers.add(timer);
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
        if (!any.done) this.schedule(any.value, w.provider, w.cluster, this.options.debounceMs);
      }
      return;
    }
    const place: ObjectPlace = { kind, name: object.metadata?.name, namespace: object.metadata?.namespace };
    const namespace = w.known.get(id);
    if (namespace === undefined || !inPlace(id, namespace, place)) {
      // Not an object of a logical cloud applied here (a made-up or stale id, or out of its namespace): nothing is kept.
      if (before) {
        this.forget(w, key);
        // It was one of a logical cloud's objects, relabelled: that logical cloud has drifted.
        if (before.logicalCloudId !== id) this.schedule(before.logicalCloudId, w.provider, w.cluster, this.options.debounceMs);
      }
      if (namespace === undefined) this.lookUp(w, id, place, type !== 'ADDED');
      return;
    }
    if (type === 'DELETED') this.forget(w, key);
    else {
      const hash = contentHash(object);
      this.keep(w, key, hash, id);
      if (type === 'ADDED' || before?.hash === hash) return;
    }
    this.schedule(id, w.provider, w.cluster, this.options.debounceMs);
  }

  /** Keeps the object's content, unless its logical cloud has MAX_OBJECTS_PER_LOGICAL_CLOUD kept on the cluster already. */
  private keep(w: ClusterWatches, key: string, hash: string, id: string): void {
    const before = this.seen.get(key);
    if (before?.logicalCloudId !== id) {
      if (before) this.forget(w, key);
      const counter = `${w.key}|${id}`;
      const count = this.kept.get(counter) ?? 0;
      if (count >= MAX_OBJECTS_PER_LOGICAL_CLOUD) return;
      this.kept.set(counter, count + 1);
    }
    this.seen.set(key, { hash, logicalCloudId: id });
  }

  private forget(w: ClusterWatches, key: string): void {
    const before = this.seen.get(key);
    if (!before) return;
    this.seen.delete(key);
    const counter = `${w.key}|${before.logicalCloudId}`;
    const count = (this.kept.get(counter) ?? 1) - 1;
    if (count > 0) this.kept.set(counter, count);
    else this.kept.delete(counter);
  }

  /** Reads which logical clouds are applied on the cluster (and their namespaces); forgets what was kept of the others' objects. */
  private async refreshKnown(w: ClusterWatches): Promise<string[]> {
    const placed = await this.deps.logicalCloudsOn(w.provider, w.cluster);
    if (w.stopped) return [];
    w.known = new Map(placed.map((p) => [p.id, p.namespace]));
    for (const [key, entry] of this.seen) if (key.startsWith(`${w.key}|`) && !w.known.has(entry.logicalCloudId)) this.forget(w, key);
    return placed.map((p) => p.id);
  }

  /**
   * An id not known on the cluster: the known logical clouds are read again (once per
   * LOOKUP_MIN_MS or debounce at most, one look-up at a time per cluster); an event that would
   * have started a check (`check`) starts it then if the id turns out to be a logical cloud applied
   * there and the object lies in its namespace. At most MAX_PENDING_LOOKUPS ids wait.
   */
  private lookUp(w: ClusterWatches, id: string, place: ObjectPlace, check: boolean): void {
    if (w.stopped) return;
    if (check && !w.pending.has(id) && w.pending.size < MAX_PENDING_LOOKUPS) w.pending.set(id, place);
    if (w.lookup) return;
    this.lookups++;
    const lookup: NonNullable<ClusterWatches['lookup']> = {};
    w.lookup = lookup;
    lookup.timer = setTimeout(() => {
      delete lookup.timer;
      const asked = new Map(w.pending);
      w.pending.clear();
      void this.refreshKnown(w)
        .then(() => {
          for (const [pendingId, pendingPlace] of asked) {
            const namespace = w.known.get(pendingId);
            if (!w.stopped && namespace !== undefined && inPlace(pendingId, namespace, pendingPlace)) this.schedule(pendingId, w.provider, w.cluster, 0);
          }
        })
        .catch((error: unknown) => this.deps.logger.warn({ err: error, cluster: w.key }, 'drift: the logical clouds on the cluster could not be read'))
        .finally(() => {
          if (w.lookup === lookup) w.lookup = undefined;
          this.lookups--;
          // Ids that came meanwhile are looked up next.
          const next = [...w.pending.entries()][0];
          if (next && !w.stopped) {
            w.pending.delete(next[0]);
            this.lookUp(w, next[0], next[1], true);
          }
          this.settle();
        });
    }, Math.max(this.options.debounceMs, LOOKUP_MIN_MS));
    lookup.timer.unref();
  }

  private async resyncCluster(w: ClusterWatches): Promise<void> {
    if (w.stopped) return;
    try {
      for (const id of await this.refreshKnown(w)) this.enqueue(id, w.provider, w.cluster);
    } catch (error) {
      this.deps.logger.warn({ err: error, cluster: w.key }, 'drift: resync failed');
    }
  }

  private schedule(id: string, provider: string, cluster: string, delayMs: number): void {
    const key = `${id}|${provider}/${cluster}`;
    if (this.scheduled.has(key)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(key);
      this.enqueue(id, provider, cluster, true);
    }, delayMs);
    timer.unref();
    this.scheduled.set(key, timer);
  }

  /** Queues a check; one that an event asked for goes before those of a resync (a repair does not wait for a full resync). */
  private enqueue(id: string, provider: string, cluster: string, fromEvent = false): void {
    const key = `${id}|${provider}/${cluster}`;
    if (this.queued.has(key)) {
      if (!fromEvent) return;
      this.queue.splice(this.queue.findIndex((q) => `${q.id}|${q.provider}/${q.cluster}` === key), 1);
    }
    this.queued.add(key);
    if (fromEvent) this.queue.unshift({ id, provider, cluster });
    else this.queue.push({ id, provider, cluster });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.queued.delete(`${next.id}|${next.provider}/${next.cluster}`);
      this.running++;
      void this.deps
        .check(next.id, next.provider, next.cluster)
        .then((outcome) => {
          if (outcome === 'busy' && this.started) this.schedule(next.id, next.provider, next.cluster, BUSY_RETRY_MS);
        })
        .catch((error: unknown) => this.deps.logger.warn({ err: error, logicalCloudId: next.id, cluster: `${next.provider}/${next.cluster}` }, 'drift check failed'))
        .finally(() => {
          this.running--;
          this.pump();
          this.settle();
        });
    }
    this.settle();
  }

  private isIdle(): boolean {
    return this.running === 0 && this.queue.length === 0 && this.scheduled.size === 0 && this.lookups === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
