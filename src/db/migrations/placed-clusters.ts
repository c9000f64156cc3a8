/**
 * The clusters a logical cloud's status document says it may hold objects on, as a top-level
 * list of `provider/cluster` keys (`placedClusters`), so that "which logical clouds are on this
 * cluster" (drift watches, a cluster's unregistration) is an equality FerretDB pushes down, where
 * `placements.cluster` (a dotted path) is evaluated in its own process. The migration gives the
 * documents stored before the list its value; idempotent and resumable like the others.
 */
import type { Migration } from './migration-runner.js';
import { fieldsFromDocument } from './promote-fields.js';

export const placedClusterKey = (provider: string, cluster: string): string => `${provider}/${cluster}`;

/** The top-level list of a status document with these placements. */
export const placedClustersOf = (placements: readonly { provider: string; cluster: string }[]): string[] =>
  placements.map((p) => placedClusterKey(p.provider, p.cluster));

export function placedClustersMigration(collection: string): Migration {
  const placed = (placements: unknown) =>
    placedClustersOf(Array.isArray(placements) ? (placements as { provider: string; cluster: string }[]) : []);
  return fieldsFromDocument(
    `derive:${collection}:placedClusters`,
    collection,
    { placedClusters: placed },
    'placements',
  );
}
