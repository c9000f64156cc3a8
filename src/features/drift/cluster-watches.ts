/**
 * The watches of one cluster: one per managed kind, each started again when it ends (at once
 * after the server's normal timeout, with backoff after a failure, rarely for a kind the cluster
 * does not serve).
 */
import { NotFound } from '../../kubernetes/cluster-errors.js';
import type { Logger } from '../../logger.js';
import {
  WATCH_SELECTOR,
  type ObjectPlace,
  type WATCHED_KINDS,
  type WatchedObject,
  type WatchEventType,
  type WatchingConnection,
} from './watched-objects.js';

export interface ClusterWatches {
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

type WatchedKind = (typeof WATCHED_KINDS)[number];

/** What a cluster's watches tell the drift watcher, and how they retry. */
export interface WatchEvents {
  event(w: ClusterWatches, type: WatchEventType, object: WatchedObject, kind: string): void;
  /** A watch runs again; `afterFailure`: events may have been missed (the cluster is checked in full). */
  restarted(w: ClusterWatches, kind: string, afterFailure: boolean): void;
  resyncMs: number;
  retryMaxMs: number;
  logger: Logger;
}

/** Starts (or restarts, `attempt` > 0) the watch of one kind; true once it runs. */
export async function startWatch(
  w: ClusterWatches,
  k: WatchedKind,
  attempt: number,
  events: WatchEvents,
): Promise<boolean> {
  if (w.stopped) return false;
  let ended = false;
  const retry = (error?: Error) => {
    ended = true;
    if (w.stopped) return;
    w.handles.delete(k.kind);
    scheduleRestart(w, k, attempt, events, error);
  };
  try {
    const handle = await w.connection.watch(
      k.apiVersion,
      k.kind,
      { labelSelector: WATCH_SELECTOR },
      {
        event: (type, object) => events.event(w, type, object, k.kind),
        closed: (error) => retry(error),
      },
    );
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
function scheduleRestart(w: ClusterWatches, k: WatchedKind, attempt: number, events: WatchEvents, error?: Error): void {
  const notServed = error instanceof NotFound;
  const backoff = Math.min(events.retryMaxMs, 1000 * 2 ** Math.min(attempt, 10));
  const delay = !error ? 0 : notServed ? Math.min(events.resyncMs, 300_000) : backoff;
  if (error && !notServed)
    events.logger.debug({ cluster: w.key, kind: k.kind, err: error, retryInMs: delay }, 'drift: watch ended');
  const timer = setTimeout(() => {
    w.retryTimers.delete(timer);
    void startWatch(w, k, error ? attempt + 1 : 0, events).then((running) => {
      if (running) events.restarted(w, k.kind, error !== undefined);
    });
  }, delay);
  timer.unref();
  w.retryTimers.add(timer);
}
