/**
 * Waits for one Kubernetes object to reach a condition by watching it, never by polling
 * with sleeps. The watch starts at resourceVersion "0": the server replays the object's
 * state from its watch cache as ADDED, so a condition that already holds resolves at once,
 * and every later change follows. (Without a resourceVersion the server must first prove
 * its cache current; where it cannot within a few seconds it sends an ERROR instead of
 * the object, and the watch would never see a condition that already holds.)
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`${what}: condition not met within ${timeoutMs} ms`);
    this.name = 'WaitTimeoutError';
  }
}

export async function waitForObject<T>(opts: {
  kubeConfig: KubeConfig;
  /** Collection path, e.g. `/apis/certificates.k8s.io/v1/certificatesigningrequests`. */
  collectionPath: string;
  name: string;
  condition: (object: T) => boolean;
  timeoutMs: number;
  /**
   * Resolve when the object is gone (condition is then ignored). `exists` is asked once the
   * watch is established, so a deletion before or after that moment is never missed.
   */
  untilDeleted?: { exists: () => Promise<boolean> };
}): Promise<T | undefined> {
  const what = `${opts.collectionPath}/${opts.name}`;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      timer = setTimeout(() => reject(new WaitTimeoutError(what, opts.timeoutMs)), opts.timeoutMs);
      const onEvent = (phase: string, object: T) => {
        if (phase === 'ERROR') return;
        if (opts.untilDeleted ? phase === 'DELETED' : phase !== 'DELETED' && opts.condition(object)) resolve(object);
      };
      const onDone = (error: unknown) => {
        if (finished) return;
        // A watch the server ends (timeout, compaction) before the condition holds is restarted.
        if (error && !(error instanceof Error && error.name === 'AbortError')) reject(error);
        else start();
      };
      const start = () => {
        new Watch(opts.kubeConfig)
          .watch(
            opts.collectionPath,
            { fieldSelector: `metadata.name=${opts.name}`, resourceVersion: '0' },
            onEvent,
            onDone,
          )
          .then((controller) => {
            abort = controller;
            opts.untilDeleted?.exists().then((exists) => exists || resolve(undefined), reject);
          }, reject);
      };
      start();
    });
  } finally {
    finished = true;
    if (timer) clearTimeout(timer);
    abort?.abort();
  }
}
