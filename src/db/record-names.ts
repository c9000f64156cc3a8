/**
 * The names of a record collection's records, kept beside it in `<collection>_names` as tiny
 * documents `{ _id: <record id>, ...scope, name, at }`, so that a list page reads the scope's names
 * without reading its records: FerretDB v1 decodes every document a find returns in its own process,
 * even for a projection of one field, and a page of 10,000 logical clouds cost over a second that way
 * (docs/database.md). On MongoDB the read is as cheap either way.
 *
 * The entry is written before its record and removed after it, so every record has its entry. An
 * entry without its record (a create that failed, or a replica that died between the two writes) is
 * *dangling*: a list leaves it out and, once it is older than `DANGLING_AFTER_MS` (no create can
 * still be under way), removes it.
 */
import type { Collection, Db, Document, Filter } from 'mongodb';
import type { Scope } from '../domain/records.js';
import type { Migration } from './migrations/migration-runner.js';
import { isDuplicateKeyError } from './mongo.js';

export interface NameEntry {
  _id: string;
  name: string;
  at: Date;
  [scopeKey: string]: unknown;
}

/** An entry this old without its record belongs to no create still under way. */
export const DANGLING_AFTER_MS = 60_000;

export const namesCollectionOf = (collection: string): string => `${collection}_names`;

export class RecordNames {
  readonly collection: Collection<NameEntry>;

  constructor(db: Db, recordCollection: string) {
    this.collection = db.collection<NameEntry>(namesCollectionOf(recordCollection));
  }

  async init(scopeKeys: readonly string[]): Promise<void> {
    const keys: Record<string, 1> = {};
    for (const key of scopeKeys) keys[key] = 1;
    keys.name = 1;
    await this.collection.createIndex(keys, { name: 'scope_name' });
  }

  /** Written before the record (`_id` is the record's); idempotent (an entry left by a failed removal is replaced). */
  async add(id: string, scope: Scope, name: string): Promise<void> {
    const entry = { ...scope, name, at: new Date() };
    try {
      await this.collection.insertOne({ ...entry, _id: id });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await this.collection.replaceOne({ _id: id } as Filter<NameEntry>, entry);
    }
  }

  /** Removed after the record; a failure leaves a dangling entry, which lists remove later. */
  async remove(id: string): Promise<void> {
    await this.collection.deleteOne({ _id: id } as Filter<NameEntry>).catch(() => undefined);
  }

  async removeWhere(scope: Partial<Scope>): Promise<void> {
    await this.collection.deleteMany(scope as Filter<NameEntry>);
  }

  /** The scope's entries (id, name and age only). */
  async read(scope: Scope): Promise<Pick<NameEntry, '_id' | 'name' | 'at'>[]> {
    return this.collection
      .find(scope as Filter<NameEntry>, { projection: { _id: 1, name: 1, at: 1 } })
      .toArray() as Promise<Pick<NameEntry, '_id' | 'name' | 'at'>[]>;
  }

  /** Removes entries found dangling (best effort: the next list tries again). */
  async removeDangling(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await Promise.all(ids.map((id) => this.remove(id)));
  }
}

/**
 * The start-up migration that gives every record stored before the names collection existed its
 * entry: idempotent (an entry is upserted by the record's id) and resumable (each run upserts all).
 */
export function recordNamesMigration(
  recordCollection: string,
  scopeKeys: readonly string[],
  batchSize = 500,
): Migration {
  return {
    name: `record-names:${recordCollection}`,
    async run(db: Db, stillHeld: () => Promise<boolean>): Promise<void> {
      const records = db.collection<Document>(recordCollection);
      const names = db.collection<Document>(namesCollectionOf(recordCollection));
      const projection = Object.fromEntries(['name', 'createdAt', ...scopeKeys].map((key) => [key, 1]));
      const cursor = records.find({}, { projection, batchSize });
      let batch: Document[] = [];
      const flush = async () => {
        if (batch.length === 0) return true;
        await names.bulkWrite(
          batch.map((doc) => ({
            updateOne: {
              filter: { _id: doc._id },
              update: {
                $set: {
                  ...Object.fromEntries(scopeKeys.map((key) => [key, doc[key]])),
                  name: doc.name,
                  at: doc.createdAt ?? new Date(),
                },
              },
              upsert: true,
            },
          })),
          { ordered: false },
        );
        batch = [];
        return stillHeld();
      };
      for await (const doc of cursor) {
        batch.push(doc);
        if (batch.length >= batchSize && !(await flush())) return;
      }
      await flush();
    },
  };
}
