/**
 * Issue 14 items 2 (last part) and 11, on the real backends: an apply whose status cannot be
 * written ends failed and is never taken over again; a change of a logical cloud's identity or
 * permissions cannot overlap an apply (on any replica: they share the logical cloud's lease); an
 * update that fails half-way leaves the logical cloud and its permissions as they were.
 * (A database failure is injected by wrapping one store method: the edge case a real MongoDB
 * reaches with a document over 16 MB.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import { applyAndSettle, removeLeftovers, statusOf, tenantLogicalCloud, terminateAndSettle } from './apply-helpers.js';

const PROJECT = 'project-serial';
const LC = 'lc-serial';
const NS = 'ns-serial';

describe('lifecycle serialization', () => {
  let t: TestDcm;
  let lcId: string;

  beforeAll(async () => {
    await removeLeftovers([NS, 'ns-serial-2'], [LC]);
    t = await startTestDcm('lifecycle_serial');
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-serial'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    lcId = (await t.dcm.services.logicalClouds.resolve(PROJECT, LC)).id;
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('an apply whose cluster status cannot be written ends failed, and no replica takes it over again', async () => {
    const store = t.dcm.stores.lifecycle;
    const setClusters = store.setClusters.bind(store);
    store.setClusters = async (id, statuses) => {
      if (statuses.some((s) => s.state === 'Applied')) throw new Error('BSONObj size: 24117248 is invalid (injected)');
      return setClusters(id, statuses);
    };
    try {
      const status = (await applyAndSettle(t, PROJECT, LC)) as unknown as {
        state: string;
        operation: { inProgress: boolean; error?: string };
      };
      expect(status.state).toBe('InstantiateFailed');
      expect(status.operation).toMatchObject({
        inProgress: false,
        error: expect.stringMatching(/^the apply broke off: BSONObj size/),
      });
      expect(await t.dcm.services.lifecycle.resumeInterrupted()).toBe(0);
    } finally {
      store.setClusters = setClusters;
    }
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
  });

  it('a change of identity or permissions waits for no apply: 409 while another replica holds the lease', async () => {
    expect((await terminateAndSettle(t, PROJECT, LC)).state).toBe('Terminated');
    expect(await t.dcm.stores.leases.acquire(lcId, 'another-replica', 30_000)).toBe(true);
    try {
      const moved = tenantLogicalCloud(LC, 'ns-serial-2', 'user-serial');
      expect((await t.http.put(lcPath(PROJECT, LC)).send(moved)).status).toBe(409);
      const widened = tenantLogicalCloud(LC, NS, 'user-serial');
      widened.spec.user['user-permissions'].push({
        'permission-name': 'permission-3',
        apiGroups: [''],
        resources: ['pods'],
        verbs: ['get'],
      });
      expect((await t.http.put(lcPath(PROJECT, LC)).send(widened)).status).toBe(409);
      // A description is not the identity: it may change meanwhile.
      const { user: _user, ...spec } = tenantLogicalCloud(LC, NS, 'user-serial').spec;
      expect(
        (
          await t.http
            .put(lcPath(PROJECT, LC))
            .send({ metadata: { description: 'still mine' }, spec: { ...spec, user: { 'user-name': 'user-serial' } } })
        ).status,
      ).toBe(200);
    } finally {
      await t.dcm.stores.leases.release(lcId, 'another-replica');
    }
    expect(
      (await t.http.put(lcPath(PROJECT, LC)).send(tenantLogicalCloud(LC, 'ns-serial-2', 'user-serial'))).status,
    ).toBe(200);
  });

  it('an apply cannot start while such a change runs', async () => {
    const lc = await t.dcm.services.logicalClouds.resolve(PROJECT, LC);
    let finish = () => undefined as void;
    const change = t.dcm.services.lifecycle.exclusive(lc, () => new Promise<void>((resolve) => (finish = resolve)));
    const refused = await t.http.post(`${lcPath(PROJECT, LC)}/apply`);
    expect(refused.status).toBe(409);
    finish();
    await change;
    expect((await statusOf(t.http, PROJECT, LC)).state).toBe('Terminated');
  });

  it('an update that fails half-way leaves the logical cloud and its permissions as they were', async () => {
    const before = (await t.http.get(lcPath(PROJECT, LC)).expect(200)).body as { spec: unknown };
    const permissions = t.dcm.stores.permissions;
    const create = permissions.create.bind(permissions);
    let creates = 0;
    permissions.create = async (...args: Parameters<typeof create>) => {
      if (++creates === 2) throw new Error('connection reset (injected)');
      return create(...args);
    };
    try {
      const changed = tenantLogicalCloud(LC, 'ns-serial-3', 'user-serial');
      changed.metadata.description = 'half-way';
      changed.spec.user['user-permissions'] = [
        { 'permission-name': 'new-1', apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { 'permission-name': 'new-2', apiGroups: [''], resources: ['services'], verbs: ['get'] },
        { 'permission-name': 'new-3', apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      ];
      const res = await t.http.put(lcPath(PROJECT, LC)).send(changed);
      expect(res.status).toBe(500);
      expect(res.text).not.toMatch(/injected|at .+:\d+/);
    } finally {
      permissions.create = create;
    }
    const after = (await t.http.get(lcPath(PROJECT, LC)).expect(200)).body as { spec: unknown };
    expect(after.spec).toEqual(before.spec);
    // The namespace it tried to move to is free again.
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud('lc-serial-3', 'ns-serial-3', 'user-x'))
      .expect(201);
  });
});
