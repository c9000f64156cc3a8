/**
 * ClusterReconciler.reconcileCluster (drift repair's entry into the lifecycle) on the real
 * clusters: under the caller's `exclusive`, one cluster of an applied logical cloud is applied
 * again with the current credential generation through the wrapped connection, and that
 * cluster's status document is written; a logical cloud not applied, an unknown reference or a
 * cluster the last apply did not place it on are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterGateway } from '../../src/kubernetes/cluster-gateway.js';
import type { LogicalCloudRecord } from '../../src/domain/logical-cloud.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { lcPath, setUpProjectAndClusters } from '../support/rest.js';
import {
  applyAndSettle,
  logicalCloudSelector,
  namespaceExists,
  rbac,
  removeLeftovers,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-reconcile-cluster';
const LC = 'lc-reconcile-cluster';
const NS = 'ns-reconcile-cluster';

describe('reconcileCluster: one cluster applied again outside any operation', () => {
  let t: TestDcm;
  let lc: LogicalCloudRecord;
  const roleBindings = async () =>
    (await rbac(0).listNamespacedRoleBinding({ namespace: NS, labelSelector: logicalCloudSelector(LC) })).items;
  const reconcile = (reference: string, wrapConnection?: (c: ClusterGateway) => ClusterGateway) =>
    t.dcm.services.lifecycle.exclusive(lc, () =>
      t.dcm.services.lifecycle.reconcileCluster(lc.id, reference, wrapConnection ? { wrapConnection } : {}),
    );

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('reconcile-cluster');
    await setUpProjectAndClusters(t, PROJECT);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-reconcile-cluster'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    lc = await t.dcm.services.logicalClouds.resolve(PROJECT, LC);
  });

  afterAll(async () => {
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('leaves a logical cloud that was never applied alone', async () => {
    expect(await reconcile('cluster-1')).toBeUndefined();
    expect(await namespaceExists(0, NS)).toBe(false);
    expect(await t.dcm.stores.credentials.get(lc.id)).toBeNull();
  });

  it('restores a deleted RoleBinding with the current credential generation, writes and returns the cluster status', async () => {
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    const generation = (await t.dcm.stores.credentials.summary(lc.id))?.generationId;
    const bindings = await roleBindings();
    expect(bindings.length).toBeGreaterThan(0);
    for (const b of bindings) await rbac(0).deleteNamespacedRoleBinding({ name: b.metadata!.name!, namespace: NS });
    expect(await roleBindings()).toEqual([]);
    const before = (await t.dcm.stores.lifecycle.get(lc.id))!;

    let wrapped = 0;
    const status = await reconcile('cluster-1', (connection) => {
      wrapped++;
      return connection;
    });
    expect(wrapped).toBe(1);
    expect(status).toMatchObject({
      reference: 'cluster-1',
      provider: 'provider-1',
      cluster: 'cluster-1',
      state: 'Applied',
    });
    expect(status?.resources.some((r) => r.category === 'role-binding' && r.status === 'Created')).toBe(true);
    expect((await roleBindings()).map((b) => b.metadata!.name).sort()).toEqual(
      bindings.map((b) => b.metadata!.name).sort(),
    );
    expect((await t.dcm.stores.credentials.summary(lc.id))?.generationId).toBe(generation);
    const after = (await t.dcm.stores.lifecycle.get(lc.id))!;
    expect(after.clusters).toEqual([status]);
    // Only the cluster's document: the logical cloud's state and operation are as they were.
    expect({ state: after.state, operation: after.operation, placements: after.placements }).toEqual({
      state: before.state,
      operation: before.operation,
      placements: before.placements,
    });
  });

  it('with writeStatus false, returns the status and writes none', async () => {
    const before = (await t.dcm.stores.lifecycle.get(lc.id))!;
    const status = await t.dcm.services.lifecycle.exclusive(lc, () =>
      t.dcm.services.lifecycle.reconcileCluster(lc.id, 'cluster-1', { writeStatus: false }),
    );
    expect(status?.state).toBe('Applied');
    expect((await t.dcm.stores.lifecycle.get(lc.id))?.clusters).toEqual(before.clusters);
  });

  it('leaves an unknown reference, and one the last apply did not place, alone', async () => {
    expect(await reconcile('cluster-9')).toBeUndefined();
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-2' })
      .expect(201);
    expect(await reconcile('cluster-2')).toBeUndefined();
    expect(await namespaceExists(1, NS)).toBe(false);
    await t.http.delete(`${lcPath(PROJECT, LC)}/cluster-references/cluster-2`).expect(204);
  });

  it('cannot run while an operation holds the lease, and leaves a terminated logical cloud alone', async () => {
    await t.http.post(`${lcPath(PROJECT, LC)}/apply`).expect(200);
    await expect(reconcile('cluster-1')).rejects.toThrow(/in progress/);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    expect((await terminateAndSettle(t, PROJECT, LC)).status).toBe('Terminated');
    expect(await reconcile('cluster-1')).toBeUndefined();
    expect(await namespaceExists(0, NS)).toBe(false);
  });
});
