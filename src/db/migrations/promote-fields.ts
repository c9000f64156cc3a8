/**
 * The migration that promotes data fields to top level (see NamedRecordStore's `promoted`):
 * every document of the collection that lacks the top-level copies gets them from its `data`.
 * Idempotent (a copy equal to `data`'s value is written again harmlessly) and resumable (it looks
 * for what is still missing, in batches, until nothing is).
 */
import type { Db, Document } from 'mongodb';
import type { Migration } from './migration-runner.js';

export function promoteDataFields(collection: string, fields: readonly string[], batchSize = 500): Migration {
  return {
    name: `promote:${collection}:${fields.join(',')}`,
    async run(db: Db, stillHeld: () => Promise<boolean>): Promise<void> {
      const docs = db.collection<Document>(collection);
      // A one-time scan: `$exists` is not pushed down by FerretDB v1, which is why it runs once.
      const missing = { $or: fields.map((field) => ({ [field]: { $exists: false } })) };
      for (;;) {
        const batch = await docs
          .find(missing, { projection: { _id: 1, data: 1 } })
          .limit(batchSize)
          .toArray();
        if (batch.length === 0) return;
        await docs.bulkWrite(
          batch.map((doc) => ({
            updateOne: {
              filter: { _id: doc._id },
              update: {
                $set: Object.fromEntries(fields.map((f) => [f, (doc.data as Document | undefined)?.[f] ?? null])),
              },
            },
          })),
          { ordered: false },
        );
        if (!(await stillHeld())) return;
      }
    },
  };
}
