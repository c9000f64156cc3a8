/**
 * Ids not known on a cluster (a logical cloud applied there since the watcher last read them, or
 * a made-up label): the known logical clouds are read again, once per LOOKUP_MIN_MS or debounce
 * at most and one look-up at a time per cluster; an event that would have started a check starts
 * it then if the id turns out to be a logical cloud applied there and the object lies in its
 * namespace. At most MAX_PENDING_LOOKUPS ids wait per cluster.
 */
import type { Logger } from '../../logger.js';
import type { ClusterWatches } from './cluster-watches.js';
import { inPlace, type ObjectPlace } from './watched-objects.js';

/** Unknown ids one cluster's look-up takes at most; more are dropped (the next resync checks what is there). */
export const MAX_PENDING_LOOKUPS = 100;
/** The least wait before unknown ids are looked up (what a flood of made-up ids costs: one read per cluster and second). */
const LOOKUP_MIN_MS = 1000;

export interface UnknownIdHost {
  /** The debounce: a look-up waits at least this long (and LOOKUP_MIN_MS). */
  delayMs: number;
  /** Reads the logical clouds applied on the cluster again (into `w.known`). */
  refreshKnown(w: ClusterWatches): Promise<unknown>;
  /** An id looked up is a logical cloud applied there, its object in place: check it. */
  found(id: string, w: ClusterWatches): void;
  logger: Logger;
  /** Told when a look-up ended (the watcher may be idle now). */
  settled(): void;
}

export class UnknownIdLookups {
  /** Look-ups waiting or running, over every cluster. */
  private count = 0;

  constructor(private readonly host: UnknownIdHost) {}

  get idle(): boolean {
    return this.count === 0;
  }

  /** Looks the id up (`check`: an event that would have started a check named it). */
  lookUp(w: ClusterWatches, id: string, place: ObjectPlace, check: boolean): void {
    if (w.stopped) return;
    if (check && !w.pending.has(id) && w.pending.size < MAX_PENDING_LOOKUPS) w.pending.set(id, place);
    if (w.lookup) return;
    this.count++;
    const lookup: NonNullable<ClusterWatches['lookup']> = {};
    w.lookup = lookup;
    lookup.timer = setTimeout(
      () => {
        delete lookup.timer;
        const asked = new Map(w.pending);
        w.pending.clear();
        void this.host
          .refreshKnown(w)
          .then(() => {
            for (const [pendingId, pendingPlace] of asked) {
              const namespace = w.known.get(pendingId);
              if (!w.stopped && namespace !== undefined && inPlace(pendingId, namespace, pendingPlace))
                this.host.found(pendingId, w);
            }
          })
          .catch((error: unknown) =>
            this.host.logger.warn(
              { err: error, cluster: w.key },
              'drift: the logical clouds on the cluster could not be read',
            ),
          )
          .finally(() => {
            if (w.lookup === lookup) w.lookup = undefined;
            this.count--;
            // Ids that came meanwhile are looked up next.
            const next = [...w.pending.entries()][0];
            if (next && !w.stopped) {
              w.pending.delete(next[0]);
              this.lookUp(w, next[0], next[1], true);
            }
            this.host.settled();
          });
      },
      Math.max(this.host.delayMs, LOOKUP_MIN_MS),
    );
    lookup.timer.unref();
  }

  /** The cluster is no longer watched: a look-up not started yet never will be; one running ends by itself. */
  cancel(w: ClusterWatches): void {
    if (w.lookup?.timer) {
      clearTimeout(w.lookup.timer);
      w.lookup = undefined;
      this.count--;
    }
    w.pending.clear();
  }
}
