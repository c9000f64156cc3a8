/**
 * Issue 17 item 1: per-cluster status and tenant certificates are one document per (logical
 * cloud, cluster reference), each written by a single upsert, on the real MongoDB-protocol
 * server. Clusters finishing at once never lose one another's write, readers see the same
 * `LifecycleDocument` as before, and documents stored in the old shape (a `clusters` array, a
 * `certificates` array) are still read, then replaced by per-reference documents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, type Db } from 'mongodb';
import { CredentialsStore, type IssuedCertificate } from '../../src/features/lifecycle/credentials.store.js';
import {
  LifecycleStatusStore,
  type ClusterStatus,
  type LifecycleDocument,
} from '../../src/features/lifecycle/lifecycle-status.store.js';
import { nearestCertificateExpiry } from '../../src/observability/logical-cloud-states.js';
import { mongoUrl, uniqueDatabaseName } from '../support/backends.js';
import { testCipher } from '../support/dcm.js';

const placement = (reference: string) => ({ reference, provider: 'provider-shapes', cluster: reference });
const cluster = (reference: string, state: ClusterStatus['state'] = 'Applied'): ClusterStatus => ({
  ...placement(reference),
  state,
  resources: [],
  warnings: [],
});

const operationDoc = (id: string, clusters: ClusterStatus[]): LifecycleDocument => ({
  _id: id,
  project: 'project-shapes',
  logicalCloud: id,
  state: 'Instantiating',
  operation: { kind: 'apply', inProgress: true, requestedAt: new Date() },
  clusters,
  placements: clusters.map((c) => placement(c.reference)),
});

const certificate = (reference: string, notAfter: Date): IssuedCertificate => ({
  reference,
  certificate: `-----BEGIN CERTIFICATE-----\n${reference}\n-----END CERTIFICATE-----\n`,
  notBefore: new Date(notAfter.getTime() - 3_000_000),
  notAfter,
  signedBy: 'cluster',
});

describe('lifecycle status and certificates as one document per cluster reference', () => {
  let mongo: MongoClient;
  let db: Db;
  let status: LifecycleStatusStore;
  let credentials: CredentialsStore;

  beforeAll(async () => {
    mongo = await MongoClient.connect(mongoUrl());
    db = mongo.db(uniqueDatabaseName('lifecycle-shapes'));
    status = new LifecycleStatusStore(db);
    credentials = new CredentialsStore(db, testCipher);
    await status.init();
    await credentials.init();
  });

  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await mongo?.close();
  });

  it('clusters written at once all stay, each in its own document, read back sorted by reference', async () => {
    const references = Array.from({ length: 12 }, (_, i) => `shapes-c${String(i).padStart(2, '0')}`);
    await status.put(
      operationDoc(
        'lc-shapes-concurrent',
        references.map((r) => cluster(r, 'Pending')),
      ),
    );
    await Promise.all([...references].reverse().map((r) => status.setClusters('lc-shapes-concurrent', [cluster(r)])));
    const read = await status.get('lc-shapes-concurrent');
    expect(read?.clusters.map((c) => [c.reference, c.state])).toEqual(references.map((r) => [r, 'Applied']));
    expect(await db.collection('lifecycleClusters').countDocuments({ logicalCloudId: 'lc-shapes-concurrent' })).toBe(
      12,
    );
    expect(await db.collection('lifecycle').findOne({ _id: 'lc-shapes-concurrent' as never })).not.toHaveProperty(
      'clusters',
    );
  });

  it('put removes the clusters it no longer lists; delete removes every document; each write nudges watchers', async () => {
    let nudges = 0;
    const unsubscribe = status.events.subscribe('lc-shapes-put', () => nudges++);
    try {
      await status.put(operationDoc('lc-shapes-put', [cluster('shapes-a'), cluster('shapes-b')]));
      await status.put(operationDoc('lc-shapes-put', [cluster('shapes-b', 'Failed')]));
      await status.setClusters('lc-shapes-put', [cluster('shapes-b')]);
      expect((await status.get('lc-shapes-put'))?.clusters.map((c) => [c.reference, c.state])).toEqual([
        ['shapes-b', 'Applied'],
      ]);
      await status.delete('lc-shapes-put');
      expect(await status.get('lc-shapes-put')).toBeNull();
      expect(await db.collection('lifecycleClusters').countDocuments({ logicalCloudId: 'lc-shapes-put' })).toBe(0);
      expect(nudges).toBeGreaterThanOrEqual(4);
    } finally {
      unsubscribe();
    }
  });

  it('put with the status as read writes only the clusters that changed, and removes those no longer listed', async () => {
    const id = 'lc-shapes-previous';
    await status.put(operationDoc(id, [cluster('shapes-p'), cluster('shapes-q'), cluster('shapes-r')]));
    const read = (await status.get(id))!;
    // Marks a cluster's document behind the store's back: a rewrite of it would remove the mark.
    const clusters = db.collection('lifecycleClusters');
    await clusters.updateOne({ _id: `${id}/shapes-p` as never }, { $set: { untouched: true } });
    await status.put(
      { ...read, state: 'Instantiated', clusters: [read.clusters[0]!, { ...read.clusters[1]!, state: 'Failed' }] },
      read,
    );
    expect(await clusters.findOne({ _id: `${id}/shapes-p` as never })).toHaveProperty('untouched', true);
    expect((await status.get(id))?.clusters.map((c) => [c.reference, c.state])).toEqual([
      ['shapes-p', 'Applied'],
      ['shapes-q', 'Failed'],
    ]);
    expect((await status.get(id))?.state).toBe('Instantiated');

    // A status that was not read by this store is no hint: every cluster is written.
    await status.put({ ...read, clusters: [read.clusters[0]!] }, { ...read });
    expect(await clusters.findOne({ _id: `${id}/shapes-p` as never })).not.toHaveProperty('untouched');
  });

  it('reads a status document stored in the old shape (a clusters array), and replaces the array at the next put', async () => {
    const old = operationDoc('lc-shapes-old', [cluster('shapes-y', 'Failed'), cluster('shapes-x')]);
    await db.collection('lifecycle').insertOne(old as never);
    // As a start-up over a database of that age: its migrations run (placedClusters, for holdingCluster).
    await db.collection('migrations').deleteMany({});
    await status.init();
    const read = await status.get('lc-shapes-old');
    expect(read?.clusters.map((c) => [c.reference, c.state])).toEqual([
      ['shapes-x', 'Applied'],
      ['shapes-y', 'Failed'],
    ]);
    expect((await status.inProgress()).find((d) => d._id === 'lc-shapes-old')?.clusters).toHaveLength(2);
    expect(await status.holdingCluster('provider-shapes', 'shapes-y')).toEqual(['project-shapes/lc-shapes-old']);

    // A cluster written since wins over the array's entry of the same reference.
    await status.setClusters('lc-shapes-old', [cluster('shapes-y')]);
    expect((await status.get('lc-shapes-old'))?.clusters.map((c) => [c.reference, c.state])).toEqual([
      ['shapes-x', 'Applied'],
      ['shapes-y', 'Applied'],
    ]);

    // Given as the status read, an old-shape one still has every cluster written (none is lost with the array).
    await status.put({ ...read!, state: 'Instantiated', operation: { ...read!.operation, inProgress: false } }, read!);
    expect(await db.collection('lifecycle').findOne({ _id: 'lc-shapes-old' as never })).not.toHaveProperty('clusters');
    expect((await status.get('lc-shapes-old'))?.clusters.map((c) => [c.reference, c.state])).toEqual([
      ['shapes-x', 'Applied'],
      ['shapes-y', 'Failed'],
    ]);
  });

  it('keeps each reference’s certificate in its own document; concurrent writes all stay', async () => {
    const generate = async () => 'test private key';
    const { generationId } = await credentials.prepareGeneration('lc-shapes-certs', 2048, generate);
    const references = Array.from({ length: 10 }, (_, i) => `shapes-r${i}`);
    const notAfter = new Date(Date.now() + 3_600_000);
    await Promise.all(references.map((r) => credentials.putCertificate('lc-shapes-certs', certificate(r, notAfter))));
    await Promise.all(references.slice(0, 3).map((r) => credentials.removeCertificate('lc-shapes-certs', r)));
    const read = await credentials.get('lc-shapes-certs');
    expect(read).toMatchObject({ generationId, privateKey: 'test private key' });
    expect(read?.certificates.map((c) => c.reference)).toEqual(references.slice(3));

    // A new generation starts with no certificates.
    await credentials.prepareGeneration('lc-shapes-certs', 2048, generate, 'aaaaaaaaaaaa');
    expect((await credentials.get('lc-shapes-certs'))?.certificates).toEqual([]);
    await credentials.delete('lc-shapes-certs');
    expect(await credentials.get('lc-shapes-certs')).toBeNull();
    expect(await db.collection('tenantCertificates').countDocuments({ logicalCloudId: 'lc-shapes-certs' })).toBe(0);
  });

  it('reads credentials stored in the old shape (a certificates array), and moves them into documents at the next apply', async () => {
    const id = 'lc-shapes-old-certs';
    const expiring = new Date(Date.now() + 60_000);
    const later = new Date(Date.now() + 3_600_000);
    await db.collection('userCredentials').insertOne({
      _id: id as never,
      privateKey: testCipher.seal('old private key', `logical-cloud/${id}/private-key`),
      keyBits: 2048,
      certificates: [certificate('shapes-old-2', later), certificate('shapes-old-1', expiring)],
      generation: 1,
      generationId: 'bbbbbbbbbbbb',
    });
    const read = await credentials.get(id);
    expect(read).toMatchObject({ privateKey: 'old private key', generation: 1, generationId: 'bbbbbbbbbbbb' });
    expect(read?.certificates.map((c) => c.reference)).toEqual(['shapes-old-1', 'shapes-old-2']);
    expect((await credentials.summary(id))?.certificates.map((c) => c.notAfter)).toEqual([expiring, later]);
    expect(await credentials.dueForRenewal(new Date())).toContain(id);
    expect((await nearestCertificateExpiry({ credentials })())?.getTime()).toBeLessThanOrEqual(expiring.getTime());

    // The apply that renews it prepares the current generation: the array becomes documents.
    expect(await credentials.prepareGeneration(id, 2048, async () => 'never')).toEqual({
      generation: 1,
      generationId: 'bbbbbbbbbbbb',
    });
    expect(await db.collection('userCredentials').findOne({ _id: id as never })).not.toHaveProperty('certificates');
    expect(await db.collection('tenantCertificates').countDocuments({ logicalCloudId: id })).toBe(2);
    await credentials.putCertificate(id, certificate('shapes-old-1', later));
    expect((await credentials.get(id))?.certificates.map((c) => [c.reference, c.notAfter])).toEqual([
      ['shapes-old-1', later],
      ['shapes-old-2', later],
    ]);
    expect(await credentials.dueForRenewal(new Date())).not.toContain(id);
  });
});
