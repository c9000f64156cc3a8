/**
 * Issue 27 item 2: the start-up migration that promotes `data.clusterProvider` / `data.cluster` of
 * cluster references to top level, from a database in the old shape: once, idempotent,
 * resumable, one replica at a time under a lease; afterwards the old unique index is gone and
 * the new one refuses a second reference to the same cluster. Likewise logical clouds' derived
 * `selects` (whether a clusterSelector is set), which the fleet follower filters on, and status
 * documents' `placedClusters` (which logical clouds are on a cluster).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type Db, type Document } from 'mongodb';
import { LeaseStore } from '../../src/db/lease-store.js';
import { migrationDone, runMigration, type Migration } from '../../src/db/migrations/migration-runner.js';
import { promoteDataFields } from '../../src/db/migrations/promote-fields.js';
import { ClusterReferenceStore } from '../../src/features/cluster-references/cluster-reference.store.js';
import { LogicalCloudStore } from '../../src/features/logical-clouds/logical-cloud.store.js';
import { LifecycleStatusStore } from '../../src/features/lifecycle/lifecycle-status.store.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { until } from '../support/until.js';

const FIELDS = ['clusterProvider', 'cluster'] as const;

/** A reference as the store wrote it before the promotion. */
const oldShape = (lc: string, name: string, cluster: string): Document => ({
  _id: `${lc}-${name}`,
  logicalCloudId: lc,
  name,
  revision: 1,
  createdAt: new Date(),
  updatedAt: new Date(),
  data: { clusterProvider: 'provider-1', cluster },
});

describe('promoting cluster references’ fields', () => {
  let client: MongoClient;
  const dbs: Db[] = [];
  async function oldDatabase(count: number): Promise<Db> {
    const db = client.db(uniqueDatabaseName('promotion'));
    dbs.push(db);
    const refs = db.collection<Document>('clusterReferences');
    await refs.createIndex({ logicalCloudId: 1, name: 1 }, { unique: true, name: 'scope_name_unique' });
    await refs.createIndex(
      { logicalCloudId: 1, 'data.clusterProvider': 1, 'data.cluster': 1 },
      { unique: true, name: 'cluster_once_per_logical_cloud' },
    );
    await refs.insertMany(Array.from({ length: count }, (_, i) => oldShape(`lc-${i % 3}`, `ref-${i}`, `cluster-${i}`)));
    return db;
  }
  const unpromoted = (db: Db) => db.collection('clusterReferences').countDocuments({ cluster: { $exists: false } });

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUrl());
  });
  afterAll(async () => {
    for (const db of dbs) await db.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('the store’s start-up promotes every document, replaces the index, and a second start-up changes nothing', async () => {
    const db = await oldDatabase(7);
    const store = new ClusterReferenceStore(db);
    await store.init();
    expect(await unpromoted(db)).toBe(0);
    const stored = await db
      .collection('clusterReferences')
      .find({ _id: 'lc-1-ref-4' as never })
      .toArray();
    expect(stored[0]).toMatchObject({
      clusterProvider: 'provider-1',
      cluster: 'cluster-4',
      data: { cluster: 'cluster-4' },
    });
    const indexes = (await db.collection('clusterReferences').indexes()).map((i) => i.name);
    expect(indexes).toContain('one_reference_per_cluster');
    expect(indexes).not.toContain('cluster_once_per_logical_cloud');
    expect(await migrationDone(db, 'promote:clusterReferences:clusterProvider,cluster')).toBe(true);

    // Found by the promoted fields, as the services ask (`data.cluster`).
    const found = await store.findWhere(
      { logicalCloudId: 'lc-1' },
      { 'data.clusterProvider': 'provider-1', 'data.cluster': 'cluster-4' },
    );
    expect(found.map((r) => r.name)).toEqual(['ref-4']);
    // The new unique index refuses a second reference to that cluster in that logical cloud.
    await expect(
      store.create({ logicalCloudId: 'lc-1' }, 'again', {
        clusterProvider: 'provider-1',
        cluster: 'cluster-4',
      } as never),
    ).rejects.toThrow();

    await new ClusterReferenceStore(db).init();
    expect(await db.collection('clusterReferences').countDocuments({})).toBe(7);
    expect(await unpromoted(db)).toBe(0);
  });

  it('resumes: a run cut off after a batch leaves the rest, which the next run promotes', async () => {
    const db = await oldDatabase(5);
    let batches = 0;
    await promoteDataFields('clusterReferences', FIELDS, 2).run(db, async () => ++batches < 1);
    expect(batches).toBe(1);
    expect(await unpromoted(db)).toBe(3);
    await runMigration(db, promoteDataFields('clusterReferences', FIELDS, 2));
    expect(await unpromoted(db)).toBe(0);
  });

  it('runs once among concurrent replicas, and one that finds the lease taken waits for it', async () => {
    const db = await oldDatabase(1);
    let runs = 0;
    const counted: Migration = {
      name: 'counted',
      run: async (_db, stillHeld) => {
        runs++;
        await stillHeld();
      },
    };
    await Promise.all([runMigration(db, counted), runMigration(db, counted), runMigration(db, counted)]);
    expect(runs).toBe(1);

    const other: Migration = { ...counted, name: 'held-elsewhere' };
    const leases = new LeaseStore(db, 'migrationLeases');
    expect(await leases.acquire('migration:held-elsewhere', 'replica-a', 60_000)).toBe(true);
    let finished = false;
    let waits = 0;
    const waiting = runMigration(db, other, { pollMs: 20, onWait: () => waits++ }).then(() => (finished = true));
    await until(async () => waits >= 3, 'the waiter polled the held lease');
    expect(finished).toBe(false);
    await leases.release('migration:held-elsewhere', 'replica-a');
    await waiting;
    expect(runs).toBe(2); // replica-a never recorded it as done: the waiter ran it
  });

  it('derives logical clouds’ `selects` from their data; the follower’s query finds only the selecting ones', async () => {
    const db = client.db(uniqueDatabaseName('promotion'));
    dbs.push(db);
    const lc = (name: string, data: Document): Document => ({ _id: name, project: 'p', name, revision: 1, data });
    await db
      .collection<Document>('logicalClouds')
      .insertMany([
        lc('plain', { namespace: 'a' }),
        lc('nulled', { namespace: 'b', clusterSelector: null }),
        lc('edge', { namespace: 'c', clusterSelector: { matchLabels: [{ key: 'tier', value: 'edge' }] } }),
      ]);
    const store = new LogicalCloudStore(db);
    await store.init();
    expect(await db.collection('logicalClouds').countDocuments({ selects: false })).toBe(2);
    expect((await store.selecting()).map((r) => r.name)).toEqual(['edge']);
    // Kept at every write: a selector removed leaves the selecting ones.
    await store.update({ project: 'p' }, 'edge', { namespace: 'c' } as never);
    expect(await store.selecting()).toEqual([]);
  });

  it('status documents stored before placedClusters get it at start-up; the lookups by cluster find them', async () => {
    const db = client.db(uniqueDatabaseName('placed'));
    dbs.push(db);
    const placement = (cluster: string) => ({ reference: cluster, provider: 'provider-1', cluster });
    await db.collection<Document & { _id: string }>('lifecycle').insertMany([
      { _id: 'lc-a', project: 'p', logicalCloud: 'a', state: 'Instantiated', placements: [placement('c1')] },
      {
        _id: 'lc-b',
        project: 'p',
        logicalCloud: 'b',
        state: 'Instantiated',
        placements: [placement('c1'), placement('c2')],
      },
      { _id: 'lc-c', project: 'p', logicalCloud: 'c', state: 'Created', placements: [] },
    ]);
    const store = new LifecycleStatusStore(db);
    await store.init();
    await store.init(); // a second start-up: done already
    expect((await store.placedOn('provider-1', 'c1')).sort()).toEqual(['lc-a', 'lc-b']);
    expect(await store.holdingCluster('provider-1', 'c2')).toEqual(['p/b']);
    expect(await store.placedOn('provider-2', 'c1')).toEqual([]);
    const raw = await db.collection('lifecycle').findOne({ _id: 'lc-c' as never });
    expect(raw?.placedClusters).toEqual([]);
    // The document read back is the status as before: the derived list stays inside the store.
    expect(Object.keys((await store.get('lc-b'))!)).not.toContain('placedClusters');
  });
});
