/**
 * The migrations that give stored documents their top-level fields (see NamedRecordStore's
 * `promoted` and `derived`): every document of the collection that lacks one gets them, copied
 * or computed from its `data`. Idempotent (a value equal to `data`'s is written again harmlessly)
 * and resumable (it looks for what is still missing, in batches, until nothing is).
 */
import type { Db, Document } from 'mongodb';
import type { Migration } from './migration-runner.js';

type Derive = (data: Document) => unknown;

/** Copies `data.<field>` to `<field>` (null when absent). */
export function promoteDataFields(collection: string, fields: readonly string[], batchSize = 500): Migration {
  const copies = Object.fromEntries(fields.map((f) => [f, (data: Document) => data[f] ?? null]));
  return topLevelFields(`promote:${collection}:${fields.join(',')}`, collection, copies, batchSize);
}

/** Sets each derived field to its value computed from `data`. */
export function deriveDataFields<T>(
  collection: string,
  derived: Readonly<Record<string, (data: T) => unknown>>,
  batchSize = 500,
): Migration {
  const name = `derive:${collection}:${Object.keys(derived).join(',')}`;
  return topLevelFields(name, collection, derived as Record<string, Derive>, batchSize);
}

function topLevelFields(
  name: string,
  collection: string,
  fields: Readonly<Record<string, Derive>>,
  batchSize: number,
): Migration {
  return fieldsFromDocument(name, collection, fields, 'data', batchSize);
}

/**
 * Sets each field to its value computed from the document's `from` field (`data` for records;
 * another top-level field, e.g. a status document's `placements`), where it is missing.
 */
export function fieldsFromDocument(
  name: string,
  collection: string,
  fields: Readonly<Record<string, Derive>>,
  from: string,
  batchSize = 500,
): Migration {
  return {
    name,
    async run(db: Db, stillHeld: () => Promise<boolean>): Promise<void> {
      const docs = db.collection<Document>(collection);
      // A one-time scan: `$exists` is not pushed down by FerretDB v1, which is why it runs once.
      const missing = { $or: Object.keys(fields).map((field) => ({ [field]: { $exists: false } })) };
      for (;;) {
        const batch = await docs
          .find(missing, { projection: { _id: 1, [from]: 1 } })
          .limit(batchSize)
          .toArray();
        if (batch.length === 0) return;
        await docs.bulkWrite(
          batch.map((doc) => ({
            updateOne: {
              filter: { _id: doc._id },
              update: {
                $set: Object.fromEntries(
                  Object.entries(fields).map(([f, value]) => [f, value((doc[from] ?? {}) as Document)]),
                ),
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
