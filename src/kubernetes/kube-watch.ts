/**
 * A label-selected watch of one kind on a real API server (ClusterGateway.watch): the library's
 * Watch, its events passed on, its end (an ERROR event, a failure, the server closing it) told
 * once through `closed`.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { clusterErrorFor, toClusterError, watchEndedError } from './cluster-errors.js';
import type { KubeObject, ListOptions, WatchEventType, WatchHandle, WatchHandlers } from './cluster-gateway.js';

const WATCH_EVENTS = new Set<string>(['ADDED', 'MODIFIED', 'DELETED']);

/** What the watch takes of the gateway. */
export interface WatchConnection {
  kubeConfig: KubeConfig;
  withTimeout<T>(what: string, call: Promise<T>): Promise<T>;
  collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<{ path: string }>;
  /** The gateway's running watches: a watch is in it until it ends. */
  watches: Set<WatchHandle>;
}

export async function watchKind(
  { kubeConfig, withTimeout, collectionPath, watches }: WatchConnection,
  apiVersion: string,
  kind: string,
  opts: ListOptions,
  handlers: WatchHandlers,
): Promise<WatchHandle> {
  const what = `watch ${apiVersion} ${kind}${opts.namespace ? ` in ${opts.namespace}` : ''}`;
  let controller: AbortController | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    watches.delete(handle);
    controller?.abort();
  };
  const handle: WatchHandle = { stop: end };
  const close = (error?: Error) => {
    if (ended) return;
    end();
    handlers.closed(error);
  };
  watches.add(handle);
  const onEvent = (type: string, object: unknown) => {
    if (ended) return;
    if (WATCH_EVENTS.has(type)) handlers.event(type as WatchEventType, object as KubeObject);
    else if (type === 'ERROR') {
      const status = object as { message?: string; code?: number } | undefined;
      close(clusterErrorFor(`${what}: ${status?.message ?? 'the server ended the watch with an error'}`, status?.code));
    }
  };
  const onDone = (error: unknown) => {
    if (ended) return;
    close(error ? watchEndedError(error, what) : undefined);
  };
  try {
    const { path } = await withTimeout(what, collectionPath(apiVersion, kind, opts.namespace));
    if (ended) return handle;
    // resourceVersion "0": the server first sends what exists (as ADDED) from its watch cache at once.
    // Without one it must first prove its cache current, and where it cannot within seconds (a kind
    // nothing wrote to lately) it ends the watch with a 504 "Too large resource version" instead.
    const query = { labelSelector: opts.labelSelector, resourceVersion: '0' };
    const started = new Watch(kubeConfig).watch(path, query, onEvent, onDone);
    // A watch that never gets its answer is given up; its connection is closed whenever it comes.
    started.then(
      (c) => {
        controller = c;
        if (ended) c.abort();
      },
      () => undefined,
    );
    await withTimeout(what, started);
  } catch (error) {
    close(toClusterError(error, what));
  }
  return handle;
}
