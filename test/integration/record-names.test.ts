/**
 * Issue 27 item 3: a list page reads the scope's names from the small `<collection>_names`
 * documents, not the records. What must hold: every record has its entry (written before it,
 * removed after it, taken back when the record is not written), pages stay correct, an entry left
 * dangling by a failed write is left out and, once old, removed, and records stored before the
 * names collection existed get their entries from a start-up migration (once, idempotent).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type Db, type Document } from 'mongodb';
import { migrationDone } from '../../src/db/migrations/migration-runner.js';
import { DuplicateNameError, NamedRecordStore } from '../../src/db/named-record-store.js';
import { DANGLING_AFTER_MS } from '../../src/db/record-names.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { until } from '../support/until.js';

interface Data {
  n: number;
}

describe('the names collection behind list pages', () => {
  let client: MongoClient;
  const dbs: Db[] = [];
  async function freshStore(): Promise<{ db: Db; store: NamedRecordStore<Data> }> {
    const db = client.db(uniqueDatabaseName('names'));
    dbs.push(db);
    const store = new NamedRecordStore<Data>(db, 'things', ['project']);
    await store.init();
    return { db, store };
  }
  const entries = (db: Db, filter: Document = {}) => db.collection('things_names').find(filter).toArray();

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUrl());
  });
  afterAll(async () => {
    for (const db of dbs) await db.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('pages are cut in name order from the entries; each create and delete keeps them in step', async () => {
    const { db, store } = await freshStore();
    const names = Array.from({ length: 23 }, (_, i) => `t-${String((i * 7) % 23).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) await store.create({ project: 'p1' }, name, { n: i });
    await store.create({ project: 'p2' }, 'other', { n: 99 });
    expect(await entries(db, { project: 'p1' })).toHaveLength(23);

    const seen: string[] = [];
    for (let offset = 0; offset < 30; offset += 5) {
      const page = await store.list({ project: 'p1' }, { limit: 5, offset });
      expect(page.total).toBe(23);
      seen.push(...page.items.map((r) => r.name));
      for (const item of page.items) expect(item.data.n).toBe(names.indexOf(item.name));
    }
    expect(seen).toEqual([...names].sort());

    expect(await store.delete({ project: 'p1' }, 't-05')).toBe(true);
    expect(await store.delete({ project: 'p1' }, 't-05')).toBe(false);
    expect(await entries(db, { name: 't-05' })).toEqual([]);
    const after = await store.list({ project: 'p1' }, { limit: 100, offset: 0 });
    expect(after.total).toBe(22);
    expect(after.items.map((r) => r.name)).not.toContain('t-05');

    expect(await store.deleteAll({ project: 'p1' })).toBe(22);
    expect(await entries(db, { project: 'p1' })).toEqual([]);
    expect((await store.list({ project: 'p2' }, { limit: 10, offset: 0 })).items.map((r) => r.name)).toEqual(['other']);
  });

  it('a create refused as a duplicate leaves no entry behind; a record put back under its own id keeps one', async () => {
    const { db, store } = await freshStore();
    const first = await store.create({ project: 'p1' }, 'dup', { n: 1 });
    await expect(store.create({ project: 'p1' }, 'dup', { n: 2 })).rejects.toThrow(DuplicateNameError);
    expect((await entries(db, { name: 'dup' })).map((e) => e._id)).toEqual([first.id]);

    // A second create with the stored record's own id fails, and must not take that record's entry away.
    await expect(store.create({ project: 'p1' }, 'dup', { n: 3 }, first.id)).rejects.toThrow(DuplicateNameError);
    expect((await entries(db, { name: 'dup' })).map((e) => e._id)).toEqual([first.id]);

    // Deleted, then put back with the same id (as a top-level delete that is undone does).
    await store.delete({ project: 'p1' }, 'dup');
    await store.create({ project: 'p1' }, 'dup', { n: 1 }, first.id);
    expect((await store.list({ project: 'p1' }, { limit: 5, offset: 0 })).items.map((r) => r.id)).toEqual([first.id]);
  });

  it('a dangling entry is left out of the page; once old it is removed, while a fresh one is kept', async () => {
    const { db, store } = await freshStore();
    await store.create({ project: 'p1' }, 'real', { n: 1 });
    const old = new Date(Date.now() - DANGLING_AFTER_MS - 1_000);
    await db.collection<Document>('things_names').insertMany([
      { _id: 'gone-old' as never, project: 'p1', name: 'gone', at: old },
      { _id: 'being-created' as never, project: 'p1', name: 'fresh', at: new Date() },
      // A stale entry under a name whose record now has another id.
      { _id: 'real-before' as never, project: 'p1', name: 'real', at: old },
      // An entry without a date (not written by the DCM) counts as old.
      { _id: 'undated' as never, project: 'p1', name: 'undated' },
    ]);
    const page = await store.list({ project: 'p1' }, { limit: 10, offset: 0 });
    expect(page.items.map((r) => r.name)).toEqual(['real']);
    await until(
      async () => (await entries(db, { _id: { $in: ['gone-old', 'real-before', 'undated'] } })).length === 0,
      'the old dangling entries removed',
    );
    expect((await entries(db, { project: 'p1' })).map((e) => e._id).sort()).toEqual(
      ['being-created', (await store.get({ project: 'p1' }, 'real'))!.id].sort(),
    );
    expect((await store.list({ project: 'p1' }, { limit: 10, offset: 0 })).total).toBe(2);
  });

  it('records stored before the names collection existed get their entries at start-up, once', async () => {
    const db = client.db(uniqueDatabaseName('names-old'));
    dbs.push(db);
    const now = new Date();
    await db.collection<Document>('things').insertMany(
      Array.from({ length: 1_234 }, (_, i) => ({
        _id: `old-${i}`,
        project: `p${i % 2}`,
        name: `t-${String(i).padStart(4, '0')}`,
        revision: 1,
        createdAt: now,
        updatedAt: now,
        data: { n: i },
      })) as never[],
    );
    const store = new NamedRecordStore<Data>(db, 'things', ['project']);
    await store.init();
    expect(await migrationDone(db, 'record-names:things')).toBe(true);
    expect(await db.collection('things_names').countDocuments({})).toBe(1_234);
    const page = await store.list({ project: 'p1' }, { limit: 3, offset: 100 });
    expect(page.total).toBe(617);
    expect(page.items.map((r) => r.id)).toEqual(['old-201', 'old-203', 'old-205']);

    // A second start-up (another replica) finds the migration done and writes nothing.
    await db.collection('things_names').deleteOne({ _id: 'old-1' as never });
    await new NamedRecordStore<Data>(db, 'things', ['project']).init();
    expect(await db.collection('things_names').countDocuments({})).toBe(1_233);
  });
});
