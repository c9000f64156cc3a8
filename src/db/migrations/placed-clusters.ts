/**
 * The clusters a logical cloud's status document says it may hold objects on, as a top-level
 * list of `provider/cluster` keys (`placedClusters`), so that "which logical clouds are on this
 * cluster" (drift watches, a cluster's unregistration) is an equality FerretDB pushes down, where
 * `placements.cluster` (a dotted path) is evaluated in its own process. The migration gives the
 * documents stored before the list its value; idempotent and resumable like the others.
 */
import type { Db, Document } from 'mongodb';
import type { Migration } from './migration-runner.js';

export const placedClusterKey = (provider: string, cluster: string): string => `${provider}/${cluster}`;

/** The top-level list of a status document with these placements. */
export const placedClustersOf = (placements: readonly { provider: string; cluster: string }[]): string[] =>
  placements.map((p) => placedClusterKey(p.provider, p.cluster));

export function placedClustersMigration(collection: string, batchSize = 500): Migration {
  return {
    name: `derive:${collection}:placedClusters`,
    async run(db: Db, stillHeld: () => Promise<boolean>): Promise<void> {
      const docs = db.collection<Document>(collection);
      for (;;) {
        // A one-time scan: `$exists` is not pushed down by FerretDB v1, which is why it runs once.
        const batch = await docs
          .find({ placedClusters: { $exists: false } }, { projection: { _id: 1, placements: 1 } })
          .limit(batchSize)
          .toArray();
        if (batch.length === 0) return;
        await docs.bulkWrite(
          batch.map((doc) => ({
            updateOne: {
              filter: { _id: doc._id },
              update: { $set: { placedClusters: placedClustersOf((doc.placements ?? []) as []) } },
            },
          })),
          { ordered: false },
        );
        if (!(await stillHeld())) return;
      }
    },
  };
}
