/** Waiting for an object to reach a condition, by a gateway watch: never by polling with sleeps. */
import type { ClusterGateway, KubeObject, WatchHandle } from '../kubernetes/cluster-gateway.js';

export interface WatchedObject {
  apiVersion: string;
  kind: string;
  name: string;
  /** Of a namespaced kind. */
  namespace?: string;
  /** Selects the object (and few others): the watch is label-selected. */
  labelSelector: string;
}

/**
 * True once the object satisfies the condition (at once when it already does: a watch first
 * sends what exists), false when it has not within timeoutMs. A watch the server ends is
 * started again; one that fails (the kind is not served, the cluster is gone) rejects.
 */
export function watchUntil<T extends KubeObject>(
  gateway: ClusterGateway,
  target: WatchedObject,
  condition: (object: T) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const handles = new Set<WatchHandle>();
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const h of handles) h.stop();
      settle();
    };
    const timer = setTimeout(() => finish(() => resolve(false)), timeoutMs);
    const start = () => {
      gateway
        .watch(
          target.apiVersion,
          target.kind,
          { ...(target.namespace ? { namespace: target.namespace } : {}), labelSelector: target.labelSelector },
          {
            event: (type, object) => {
              if (type !== 'DELETED' && object.metadata?.name === target.name && condition(object as T))
                finish(() => resolve(true));
            },
            closed: (error) => {
              if (done) return;
              if (error) finish(() => reject(error));
              else start();
            },
          },
        )
        .then(
          (handle) => {
            if (done) handle.stop();
            else handles.add(handle);
          },
          (error: unknown) => finish(() => reject(error)),
        );
    };
    start();
  });
}
