/** What drift does when a logical cloud changes elsewhere: its events go with it; reconcile resumed, it is checked now. */
import type { EventBus } from '../../jobs/event-bus.js';
import { reconcilePaused } from '../../domain/logical-cloud.js';
import type { DriftEventStore } from './drift-events.store.js';
import type { DriftWatcher } from './drift-watcher.js';

export function subscribeDrift(
  events: Pick<EventBus, 'on'>,
  watcher: Pick<DriftWatcher, 'checkLogicalCloud'>,
  store: Pick<DriftEventStore, 'deleteAll'>,
): void {
  events.on('logicalCloudDeleted', ({ logicalCloudId }) => store.deleteAll(logicalCloudId));
  // Reconcile enabled again: what was only reported is restored now, not at the next resync.
  events.on('logicalCloudUpdated', ({ logicalCloudId, before, after }) => {
    if (reconcilePaused(before) && !reconcilePaused(after)) watcher.checkLogicalCloud(logicalCloudId);
  });
}
