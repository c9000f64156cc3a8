/** 50 concurrent creates of one name: exactly one wins, the others get 409, and the database holds one record. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import {
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  lcPath,
  registerCluster,
} from '../support/rest.js';

const CONCURRENCY = 50;

const countStatuses = (statuses: number[]): Record<number, number> =>
  statuses.reduce<Record<number, number>>((counts, s) => ({ ...counts, [s]: (counts[s] ?? 0) + 1 }), {});

describe('REST concurrent creates', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_concurrency');
    await createProject(t, 'project-1');
    await createProvider(t, 'provider-1');
    for (const name of ['target', 'target-2', ...Array.from({ length: 10 }, (_, i) => `c${i}`)])
      await registerCluster(t, 'provider-1', name, 1);
  });

  afterAll(async () => {
    await t.close();
  });

  it(`${CONCURRENCY} POSTs of one logical cloud give one 201 and ${CONCURRENCY - 1} × 409; the DB holds one logical cloud and its inline permissions once`, async () => {
    const responses = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        t.http.post('/v2/projects/project-1/logical-clouds').send(design.logicalCloud()),
      ),
    );
    expect(countStatuses(responses.map((r) => r.status))).toEqual({ 201: 1, 409: CONCURRENCY - 1 });
    for (const res of responses.filter((r) => r.status === 409))
      expectError(res, 409, /Logical Cloud lc-1 already exists/);

    const db = t.mongo.db(t.databaseName);
    const logicalClouds = await db.collection('logicalClouds').find({ project: 'project-1', name: 'lc-1' }).toArray();
    expect(logicalClouds).toHaveLength(1);
    expect(await db.collection('logicalClouds').countDocuments({})).toBe(1);

    const id = logicalClouds[0]!._id;
    const permissions = await db
      .collection('userPermissions')
      .find({}, { sort: { name: 1 } })
      .toArray();
    expect(permissions.map((p) => [p.logicalCloudId, p.name])).toEqual([
      [id, 'permission-1'],
      [id, 'permission-2'],
    ]);

    const listed = await t.http.get('/v2/projects/project-1/logical-clouds/lc-1/user-permissions');
    expect(listed.body.permissions.map((p: { name: string }) => p.name)).toEqual(['permission-1', 'permission-2']);
  });

  it(`${CONCURRENCY} POSTs of one project and of one child record give one 201 each`, async () => {
    const projects = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => t.http.post('/v2/projects').send({ metadata: { name: 'racy' } })),
    );
    expect(countStatuses(projects.map((r) => r.status))).toEqual({ 201: 1, 409: CONCURRENCY - 1 });
    expect(await t.mongo.db(t.databaseName).collection('projects').countDocuments({ name: 'racy' })).toBe(1);

    const kvPairs = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        t.http.post('/v2/projects/project-1/logical-clouds/lc-1/kv-pairs').send(design.kvPair()),
      ),
    );
    expect(countStatuses(kvPairs.map((r) => r.status))).toEqual({ 201: 1, 409: CONCURRENCY - 1 });
    expect(await t.mongo.db(t.databaseName).collection('kvPairs').countDocuments({ name: 'kv-1' })).toBe(1);
  });

  describe('a cluster is referenced once per logical cloud, however many clients try at once', () => {
    const references = `${lcPath('project-1', 'lc-refs')}/cluster-references`;
    const referencesTo = (cluster: string) =>
      t.mongo
        .db(t.databaseName)
        .collection('clusterReferences')
        .countDocuments({ 'data.clusterProvider': 'provider-1', 'data.cluster': cluster });

    beforeAll(async () => {
      await createDesignLogicalCloud(t, 'project-1', 'lc-refs');
    });

    it('20 POSTs of differently named references to one cluster give one 201 and 19 × 409', async () => {
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          t.http
            .post(references)
            .send({ metadata: { name: `ref-${i}` }, spec: { clusterProvider: 'provider-1', cluster: 'target' } }),
        ),
      );
      expect(countStatuses(responses.map((r) => r.status))).toEqual({ 201: 1, 409: 19 });
      for (const res of responses.filter((r) => r.status === 409))
        expectError(res, 409, /Cluster target is already referenced/);
      expect(await referencesTo('target')).toBe(1);
    });

    it('10 PUTs moving different references onto one cluster give one 200 and 9 × 409, never a 500', async () => {
      for (let i = 0; i < 10; i++) {
        const res = await t.http
          .post(references)
          .send({ metadata: { name: `move-${i}` }, spec: { clusterProvider: 'provider-1', cluster: `c${i}` } });
        expect(res.status).toBe(201);
      }
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          t.http
            .put(`${references}/move-${i}`)
            .send({ metadata: { name: `move-${i}` }, spec: { clusterProvider: 'provider-1', cluster: 'target-2' } }),
        ),
      );
      expect(countStatuses(responses.map((r) => r.status))).toEqual({ 200: 1, 409: 9 });
      for (const res of responses.filter((r) => r.status === 409))
        expectError(res, 409, /Cluster target-2 is already referenced/);
      expect(await referencesTo('target-2')).toBe(1);
    });
  });
});
