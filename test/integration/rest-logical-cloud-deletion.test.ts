/** Deleting a never-applied logical cloud removes its children; re-creating the name starts empty. */
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

const CHILD_COLLECTIONS = ['userPermissions', 'clusterReferences', 'clusterQuotas', 'kvPairs'];
const lc1 = lcPath('project-1', 'lc-1');

describe('REST logical cloud deletion', () => {
  let t: TestDcm;

  /** How many records each child collection holds for a logical cloud id. */
  const childCounts = async (logicalCloudId: unknown): Promise<Record<string, number>> => {
    const db = t.mongo.db(t.databaseName);
    const counts = await Promise.all(CHILD_COLLECTIONS.map((c) => db.collection(c).countDocuments({ logicalCloudId })));
    return Object.fromEntries(CHILD_COLLECTIONS.map((c, i) => [c, counts[i]!]));
  };

  const logicalCloudId = async (): Promise<unknown> =>
    (await t.mongo.db(t.databaseName).collection('logicalClouds').findOne({ project: 'project-1', name: 'lc-1' }))?._id;

  beforeAll(async () => {
    t = await startTestDcm('rest_lc_delete');
    await createProject(t, 'project-1');
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
  });

  afterAll(async () => {
    await t.close();
  });

  it('removes the permissions, cluster references, quotas and kv-pairs with the logical cloud', async () => {
    await createDesignLogicalCloud(t, 'project-1');
    for (const [path, body] of [
      ['user-permissions', design.permission3()],
      ['cluster-references', { name: 'cluster-1' }],
      ['cluster-quotas', design.quota()],
      ['kv-pairs', design.kvPair()],
    ] as const) {
      expect((await t.http.post(`${lc1}/${path}`).send(body)).status).toBe(201);
    }
    const id = await logicalCloudId();
    expect(id).toEqual(expect.any(String));
    expect(await childCounts(id)).toEqual({ userPermissions: 3, clusterReferences: 1, clusterQuotas: 1, kvPairs: 1 });

    expect((await t.http.delete(lc1)).status).toBe(204);

    expect(await logicalCloudId()).toBeUndefined();
    expect(await childCounts(id)).toEqual({ userPermissions: 0, clusterReferences: 0, clusterQuotas: 0, kvPairs: 0 });
    expectError(await t.http.get(`${lc1}/kv-pairs/kv-1`), 404, /Logical Cloud lc-1 not found/);
  });

  it('the cluster it referenced can be deleted afterwards', async () => {
    expect((await t.http.delete('/v2/cluster-providers/provider-1/clusters/cluster-1')).status).toBe(204);
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
  });

  it('a logical cloud re-created with the same name starts empty', async () => {
    await createDesignLogicalCloud(t, 'project-1');
    const permissions = await t.http.get(`${lc1}/user-permissions`);
    expect(permissions.body.permissions.map((p: { name: string }) => p.name)).toEqual(['permission-1', 'permission-2']);
    for (const path of ['cluster-references', 'cluster-quotas', 'kv-pairs']) {
      const res = await t.http.get(`${lc1}/${path}`);
      expect({ path, body: res.body as unknown }).toEqual({ path, body: [] });
    }
    expect((await t.http.get(lc1)).body.spec.clusters).toEqual([]);
    expect(await childCounts(await logicalCloudId())).toEqual({
      userPermissions: 2,
      clusterReferences: 0,
      clusterQuotas: 0,
      kvPairs: 0,
    });
  });
});
