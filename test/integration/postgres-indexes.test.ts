/**
 * Issue 27: on FerretDB's PostgreSQL backend (the test and embedded database), a pushed-down
 * equality on an indexed top-level field is answered from an index, not by a scan of the table:
 * PostgreSQL keeps a GIN companion of each of FerretDB's indexes (test/testenv/postgres-indexes.ts).
 * Judged on the PostgreSQL plan FerretDB's `explain` returns; other backends have nothing to judge.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type Collection, type Document } from 'mongodb';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';

const DOCUMENTS = 3000;

interface Rec extends Document {
  _id: string;
}

/** The node types of PostgreSQL's plan of `filter`, or undefined when the backend is not FerretDB on PostgreSQL. */
async function planNodes(collection: Collection<Rec>, filter: Document): Promise<string[] | undefined> {
  const answer = await collection.find(filter).explain();
  const plan = (answer.queryPlanner as { Plan?: unknown } | undefined)?.Plan;
  if (!plan || Array.isArray(plan) || typeof plan !== 'object') return undefined;
  const nodes: string[] = [];
  const walk = (node: Document) => {
    nodes.push(String(node['Node Type']));
    for (const child of (node.Plans as Document[] | undefined) ?? []) walk(child);
  };
  walk(plan as Document);
  return nodes;
}

describe('indexed lookups on the PostgreSQL backend', () => {
  let client: MongoClient;
  let dbName: string;
  let records: Collection<Rec>;
  let postgres = false;

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUrl());
    dbName = uniqueDatabaseName('pgindex');
    records = client.db(dbName).collection<Rec>('records');
    await records.createIndex({ project: 1, name: 1 }, { unique: true, name: 'scope_name_unique' });
    await records.createIndex({ cluster: 1 }, { name: 'by_cluster' });
    const docs = Array.from({ length: DOCUMENTS }, (_, i) => ({
      _id: `id-${i}`,
      project: 'p',
      name: `record-${i}`,
      cluster: `cluster-${i}`,
      data: { description: 'x'.repeat(200) },
    }));
    await records.insertMany(docs);
    postgres = (await planNodes(records, { name: 'record-1' })) !== undefined;
  });

  afterAll(async () => {
    await client?.db(dbName).dropDatabase();
    await client?.close();
  });

  it('finds by a field of a compound unique index, and by _id, through an index', async () => {
    if (!postgres) return;
    for (const filter of [{ project: 'p', name: 'record-1234' }, { _id: 'id-42' }]) {
      const nodes = (await planNodes(records, filter))!;
      expect(nodes).not.toContain('Seq Scan');
      expect(nodes.join(' ')).toMatch(/Index Scan/);
    }
    expect(await records.findOne({ project: 'p', name: 'record-1234' })).toMatchObject({ _id: 'id-1234' });
  });

  it('stops using the index of a dropped index, and still answers', async () => {
    if (!postgres) return;
    expect(await planNodes(records, { cluster: 'cluster-7' })).not.toContain('Seq Scan');
    await records.dropIndex('by_cluster');
    expect(await planNodes(records, { cluster: 'cluster-7' })).toContain('Seq Scan');
    expect(await records.findOne({ cluster: 'cluster-7' })).toMatchObject({ _id: 'id-7' });
  });
});
