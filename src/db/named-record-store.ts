/**
 * A store of named records under a scope (their parents' keys), one collection per
 * resource. A unique compound index on (scope…, name) makes "create if absent" a single
 * atomic insert; every update is one conditional write that bumps `revision`, which is
 * also the ETag. Records are stored as `{ _id, ...scope, name, revision, data, … }`;
 * `data` must avoid keys with dots or a leading `$` (maps are stored as key/value lists).
 *
 * Queries use equality on top-level fields only, the subset MongoDB and FerretDB v1 both push
 * down to their storage (FerretDB pushes no dotted path): a data field that filters use is
 * *promoted*, i.e. also stored at top level (`promoted`), and a filter on `data.<field>` is asked
 * as one on `<field>` (docs/database.md; `src/db/migrations/` promotes the existing documents).
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import type { Scope, StoredRecord } from '../domain/records.js';
import { findSplittingIn } from './in-as-equalities.js';
import { runMigration, type Migration } from './migrations/migration-runner.js';
import { isDuplicateKeyError } from './mongo.js';
import { DANGLING_AFTER_MS, RecordNames, recordNamesMigration } from './record-names.js';

export type { KeyValue, Scope, StoredRecord } from '../domain/records.js';
export { mapToPairs, pairsToMap } from '../domain/records.js';

interface RecordDocument<T> {
  _id: string;
  name: string;
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  data: T;
  [scopeKey: string]: unknown;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface PageOf<T> {
  items: T[];
  total: number;
}

export type UpdateOutcome<T> = { kind: 'updated'; record: StoredRecord<T> } | { kind: 'not-found' } | { kind: 'stale' };

export class DuplicateNameError extends Error {}

/** MongoDB's order of names without a collation: by code point (names are ASCII here). */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface NamedRecordStoreOptions<T = unknown> {
  /** Data fields (scalars) also stored at top level, for filters: `data.cluster` is asked as `cluster`. */
  promoted?: readonly string[];
  /**
   * Top-level fields computed from the data at every write, for a filter that is no equality on a
   * data field, e.g. `selects` (whether a logical cloud has a cluster selector) asked as `{ selects: true }`.
   */
  derived?: Readonly<Record<string, (data: T) => string | number | boolean | null>>;
}

export class NamedRecordStore<T> {
  private readonly collection: Collection<RecordDocument<T>>;
  private readonly promoted: readonly string[];
  private readonly derived: NonNullable<NamedRecordStoreOptions<T>['derived']>;
  private readonly names: RecordNames;

  constructor(
    private readonly db: Db,
    private readonly collectionName: string,
    private readonly scopeKeys: readonly string[],
    opts: NamedRecordStoreOptions<T> = {},
  ) {
    this.collection = db.collection<RecordDocument<T>>(collectionName);
    this.promoted = opts.promoted ?? [];
    this.derived = opts.derived ?? {};
    this.names = new RecordNames(db, collectionName);
  }

  /** The top-level copies of the promoted data fields, and the derived fields. */
  private promotedOf(data: T): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    for (const field of this.promoted) fields[field] = (data as Record<string, unknown>)[field] ?? null;
    for (const [field, derive] of Object.entries(this.derived)) fields[field] = derive(data);
    return fields;
  }

  /**
   * A filter with `data.<promoted>` asked as `<promoted>` and an `$in` of one value as an equality;
   * anything else is asked as it is (FerretDB v1 evaluates it in its own process).
   */
  private pushable(filter: Record<string, unknown>): Filter<RecordDocument<T>> {
    const out: Record<string, unknown> = {};
    for (const [key, given] of Object.entries(filter)) {
      const one = (given as { $in?: unknown[] } | null)?.$in;
      const value =
        Array.isArray(one) && one.length === 1 && Object.keys(given as object).length === 1 ? one[0] : given;
      const field = key.startsWith('data.') ? key.slice('data.'.length) : undefined;
      out[field !== undefined && this.promoted.includes(field) ? field : key] = value;
    }
    return out as Filter<RecordDocument<T>>;
  }

  /** Creates the indexes; run once at start-up before the store is used. */
  async init(): Promise<void> {
    const keys: Record<string, 1> = {};
    for (const key of this.scopeKeys) keys[key] = 1;
    keys.name = 1;
    await this.collection.createIndex(keys, { unique: true, name: 'scope_name_unique' });
    await this.names.init(this.scopeKeys);
    // Records stored before the names collection existed get their entries once (lists would miss them).
    await this.migrate(recordNamesMigration(this.collectionName, this.scopeKeys));
  }

  /** A further uniqueness rule over data fields, e.g. one reference per cluster in a logical cloud. */
  async ensureUniqueIndex(name: string, keys: Record<string, 1>): Promise<void> {
    await this.collection.createIndex(keys, { unique: true, name });
  }

  /** An index for a filter (MongoDB answers from it; FerretDB v1 pushes the equality down to its storage). */
  async ensureIndex(name: string, keys: Record<string, 1>): Promise<void> {
    await this.collection.createIndex(keys, { name });
  }

  /** Drops an index this store no longer uses (e.g. one replaced after a promotion); absent is fine. */
  async dropIndexIfPresent(name: string): Promise<void> {
    const indexes = await this.collection.indexes();
    if (indexes.some((index) => index.name === name)) await this.collection.dropIndex(name);
  }

  /** Runs a start-up migration of the stored documents (once per database, under a lease). */
  async migrate(migration: Migration): Promise<void> {
    await runMigration(this.db, migration);
  }

  private filter(scope: Scope, name?: string): Filter<RecordDocument<T>> {
    const filter: Record<string, unknown> = {};
    for (const key of this.scopeKeys) {
      const value = scope[key];
      if (value === undefined) throw new Error(`scope key ${key} missing`);
      filter[key] = value;
    }
    if (name !== undefined) filter.name = name;
    return filter as Filter<RecordDocument<T>>;
  }

  private toRecord(doc: RecordDocument<T>): StoredRecord<T> {
    const scope: Scope = {};
    for (const key of this.scopeKeys) scope[key] = doc[key] as string;
    return {
      id: doc._id,
      scope,
      name: doc.name,
      revision: doc.revision,
      createdAt: doc.createdAt,
      updatedAt: doc.updatedAt,
      data: doc.data,
    };
  }

  /**
   * Inserts a new record; throws DuplicateNameError when the name is taken in the scope. Its name
   * entry is written first (see RecordNames) and taken back when the record is not written.
   */
  async create(scope: Scope, name: string, data: T, id: string = randomUUID()): Promise<StoredRecord<T>> {
    const now = new Date();
    const keys = this.filter(scope) as Scope;
    await this.names.add(id, keys, name);
    const doc = {
      ...keys,
      name,
      _id: id,
      revision: 1,
      ...this.promotedOf(data),
      createdAt: now,
      updatedAt: now,
      data,
    } as RecordDocument<T>;
    try {
      await this.collection.insertOne(doc as never);
    } catch (error) {
      // Kept when the id is a stored record's (a record put back with its id, e.g. by a delete undone).
      if (!isDuplicateKeyError(error) || !(await this.getById(id))) await this.names.remove(id);
      if (isDuplicateKeyError(error)) throw new DuplicateNameError(name);
      throw error;
    }
    return this.toRecord(doc);
  }

  async get(scope: Scope, name: string): Promise<StoredRecord<T> | undefined> {
    const doc = await this.collection.findOne(this.filter(scope, name));
    return doc ? this.toRecord(doc as RecordDocument<T>) : undefined;
  }

  async getById(id: string): Promise<StoredRecord<T> | undefined> {
    const doc = await this.collection.findOne({ _id: id } as Filter<RecordDocument<T>>);
    return doc ? this.toRecord(doc as RecordDocument<T>) : undefined;
  }

  /**
   * The scope's records by name. A page is cut here from the scope's names (RecordNames: tiny
   * documents, not the records), and its records are then read by name (pushed-down equalities):
   * FerretDB v1 would otherwise sort, skip and count in its own process, decoding every record of
   * the scope. On MongoDB the names are one indexed read of small documents.
   */
  async list(scope: Scope, page?: Page): Promise<PageOf<StoredRecord<T>>> {
    const filter = this.filter(scope) as Record<string, unknown>;
    if (!page) {
      const docs = await this.collection.find(filter as Filter<RecordDocument<T>>).toArray();
      const items = docs.map((doc) => this.toRecord(doc as RecordDocument<T>));
      return { items: items.sort((a, b) => byName(a.name, b.name)), total: items.length };
    }
    const entries = await this.names.read(filter as Scope);
    const names = [...new Set(entries.map((entry) => entry.name))].sort(byName);
    const wanted = names.slice(page.offset, page.offset + page.limit);
    if (wanted.length === 0) return { items: [], total: names.length };
    const docs = await findSplittingIn(this.collection, { ...filter, name: { $in: wanted } });
    const byRecordName = new Map(docs.map((doc) => [doc.name, this.toRecord(doc as RecordDocument<T>)]));
    this.removeDangling(entries, new Set(wanted), byRecordName);
    // A record deleted since its name was read is left out (as a find after a count would).
    const items = wanted.flatMap((name) => byRecordName.get(name) ?? []);
    return { items, total: names.length };
  }

  /** Entries of the page's names that no record has (their record's id differs, or none), once old enough (no date: old). */
  private removeDangling(
    entries: readonly { _id: string; name: string; at?: Date }[],
    wanted: ReadonlySet<string>,
    records: ReadonlyMap<string, StoredRecord<T>>,
  ): void {
    const before = Date.now() - DANGLING_AFTER_MS;
    const dangling = entries.filter(
      (e) => wanted.has(e.name) && records.get(e.name)?.id !== e._id && !((e.at?.getTime() ?? 0) >= before),
    );
    void this.names.removeDangling(dangling.map((e) => e._id));
  }

  /** Records of the scope that match a condition on their data, e.g. `{ 'data.cluster': 'c1' }` (a promoted field). */
  async findWhere(scope: Partial<Scope>, dataFilter: Record<string, unknown>): Promise<StoredRecord<T>[]> {
    const filter = this.pushable({ ...scope, ...dataFilter }) as Record<string, unknown>;
    const docs = await findSplittingIn(this.collection, filter);
    return docs.map((doc) => this.toRecord(doc as RecordDocument<T>));
  }

  /** The ids of every record, in every scope. */
  async ids(): Promise<string[]> {
    const docs = await this.collection.find({}, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => String(d._id));
  }

  async count(scope: Partial<Scope>): Promise<number> {
    return this.collection.countDocuments(this.pushable(scope));
  }

  /**
   * Replaces the record's data in one conditional write: with `expectedRevision` only if the
   * stored revision still is that one (optimistic concurrency), otherwise unconditionally.
   */
  async update(scope: Scope, name: string, data: T, expectedRevision?: number): Promise<UpdateOutcome<T>> {
    const filter = this.filter(scope, name) as Record<string, unknown>;
    if (expectedRevision !== undefined) filter.revision = expectedRevision;
    const doc = await this.collection.findOneAndUpdate(
      filter as Filter<RecordDocument<T>>,
      { $set: { data, ...this.promotedOf(data), updatedAt: new Date() } as never, $inc: { revision: 1 } as never },
      { returnDocument: 'after' },
    );
    if (doc) return { kind: 'updated', record: this.toRecord(doc as RecordDocument<T>) };
    if (expectedRevision !== undefined && (await this.get(scope, name))) return { kind: 'stale' };
    return { kind: 'not-found' };
  }

  /**
   * Sets one field of a record's data if it still holds `expected` (e.g. a secret sealed
   * again under a new key); neither revision nor updatedAt change: the record's content does not.
   */
  async replaceDataField(id: string, field: string, expected: unknown, next: unknown): Promise<boolean> {
    const path = `data.${field}`;
    const result = await this.collection.updateOne({ _id: id, [path]: expected } as Filter<RecordDocument<T>>, {
      $set: { [path]: next } as never,
    });
    return result.modifiedCount === 1;
  }

  /** Deletes the record, then its name entry. */
  async delete(scope: Scope, name: string): Promise<boolean> {
    const doc = await this.collection.findOneAndDelete(this.filter(scope, name));
    if (!doc) return false;
    await this.names.remove(String(doc._id));
    return true;
  }

  async deleteAll(scope: Partial<Scope>): Promise<number> {
    const result = await this.collection.deleteMany(scope as Filter<RecordDocument<T>>);
    await this.names.removeWhere(scope);
    return result.deletedCount;
  }
}
