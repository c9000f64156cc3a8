/**
 * Convergence (issue 4, point 5): after an apply, changing cluster references, quotas or
 * permissions and applying again brings the clusters to the new state: a removed cluster is
 * cleaned up (namespace and cluster-wide roles) and leaves the status, a changed quota
 * updates its ResourceQuota, and a cluster-wide permission (EMCO's shape, spec.namespace "")
 * is a ClusterRole + ClusterRoleBinding that grants what it says, removed with it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1ClusterRole, V1ClusterRoleBinding } from '@kubernetes/client-node';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  clusterEntry,
  core,
  logicalCloudSelector,
  namespaceExists,
  rbac,
  readRole,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  terminateAndSettle,
  type ClusterIndex,
} from './apply-helpers.js';

const PROJECT = 'project-convergence';
const LC = 'lc-conv';
const NS = 'ns-conv-1';
const USER = 'user-conv';

describe('re-applying after changes converges the clusters', () => {
  let t: TestDcm;
  const tenant: Record<string, string> = {};
  const path = lcPath(PROJECT, LC);

  const clusterScoped = async (
    i: ClusterIndex,
  ): Promise<{ roles: V1ClusterRole[]; bindings: V1ClusterRoleBinding[] }> => ({
    roles: (await rbac(i).listClusterRole({ labelSelector: logicalCloudSelector(LC) })).items,
    bindings: (await rbac(i).listClusterRoleBinding({ labelSelector: logicalCloudSelector(LC) })).items,
  });
  const canI = async (reference: string, ...args: string[]) =>
    (await kubectl({ text: tenant[reference]! }, ['auth', 'can-i', ...args])).stdout.trim();
  const quotaHard = async (i: ClusterIndex) =>
    (await core(i).readNamespacedResourceQuota({ name: 'dcm-quota-quota-conv', namespace: NS })).spec?.hard;

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('apply_convergence');
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-conv');
    await registerCluster(t, 'provider-conv', 'cluster-1', 1);
    await registerCluster(t, 'provider-conv', 'cluster-2', 2);
  });

  afterAll(async () => {
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('applies to both clusters, with a quota and a cluster-wide permission in EMCO’s shape', async () => {
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, USER))
      .expect(201);
    for (const name of ['cluster-1', 'cluster-2'])
      await t.http.post(`${path}/cluster-references`).send({ name }).expect(201);
    await t.http
      .post(`${path}/cluster-quotas`)
      .send({ metadata: { name: 'quota-conv' }, spec: { cpu: '4', pods: '20' } })
      .expect(201);
    const permission = await t.http
      .post(`${path}/user-permissions`)
      .send({
        metadata: { name: 'perm-nodes' },
        spec: { namespace: '', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
      })
      .expect(201);
    expect(permission.body.spec.namespace).toBe('');

    const s = await applyAndSettle(t, PROJECT, LC);
    expect(s.status).toBe('Created');
    for (const c of s.clusters)
      expect(c).toMatchObject({
        state: 'Applied',
        'role-status': 'Created',
        'role-binding-status': 'Created',
        'quota-status': 'Created',
      });

    for (const [i, reference] of [
      [0, 'cluster-1'],
      [1, 'cluster-2'],
    ] as const) {
      tenant[reference] = await tenantKubeconfig(t.http, PROJECT, LC, reference);
      const { roles, bindings } = await clusterScoped(i);
      expect(
        roles.map((r) => ({ permission: r.metadata?.annotations?.['dcm.onap.org/permission'], rules: r.rules })),
      ).toEqual([
        { permission: 'perm-nodes', rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }] },
      ]);
      expect(bindings).toHaveLength(1);
      expect(bindings[0]).toMatchObject({
        roleRef: { kind: 'ClusterRole', name: roles[0]!.metadata!.name },
        subjects: [{ kind: 'Group', name: expect.stringMatching(/^dcm:lc:[0-9a-f-]{36}:[0-9a-f]{12}$/) }],
      });
      // Cluster-wide: no Role of that name in the namespace.
      expect(await readRole(i, NS, 'dcm-perm-nodes')).toBeUndefined();
      expect(await canI(reference, 'list', 'nodes')).toBe('yes');
      expect((await kubectl({ text: tenant[reference]! }, ['get', 'nodes'])).code).toBe(0);
      expect(await canI(reference, 'delete', 'nodes')).toBe('no');
      expect(await quotaHard(i)).toEqual({ 'requests.cpu': '4', pods: '20' });
    }
  });

  it('a removed cluster reference: its namespace and cluster-wide roles are deleted there, and it leaves the status', async () => {
    const roleBefore = (await readRole(0, NS, 'dcm-permission-2'))?.metadata?.resourceVersion;
    await t.http.delete(`${path}/cluster-references/cluster-2`).expect(204);

    const s = await applyAndSettle(t, PROJECT, LC);
    expect(s.status).toBe('Created');
    expect(s.clusters.map((c) => c['cluster-reference'])).toEqual(['cluster-1']);

    expect(await namespaceExists(1, NS)).toBe(false);
    expect(await clusterScoped(1)).toEqual({ roles: [], bindings: [] });
    expect(await canI('cluster-2', 'list', 'nodes')).toBe('no');
    expect((await t.http.get(`${path}/kubeconfig?cluster-reference=cluster-2`)).status).toBe(404);
    const credentials = await t.dcm.stores.credentials.get(
      (await t.dcm.services.logicalClouds.resolve(PROJECT, LC)).id,
    );
    expect(credentials?.certificates.map((c) => c.reference)).toEqual(['cluster-1']);

    // The cluster that stays is untouched.
    expect(await namespaceExists(0, NS)).toBe(true);
    expect((await readRole(0, NS, 'dcm-permission-2'))?.metadata?.resourceVersion).toBe(roleBefore);
    expect((await clusterScoped(0)).roles).toHaveLength(1);
    expect(await canI('cluster-1', 'list', 'nodes')).toBe('yes');
  });

  it("a quota's changed values update its ResourceQuota; a limit no longer set is dropped", async () => {
    await t.http
      .put(`${path}/cluster-quotas/quota-conv`)
      .send({ spec: { cpu: '2', memory: '1Gi' } })
      .expect(200);
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    expect(await quotaHard(0)).toEqual({ 'requests.cpu': '2', 'requests.memory': '1Gi' });
  });

  it('a removed cluster-wide permission removes its ClusterRole and ClusterRoleBinding, and what they granted', async () => {
    await t.http.delete(`${path}/user-permissions/perm-nodes`).expect(204);
    const s = await applyAndSettle(t, PROJECT, LC);
    expect(s.status).toBe('Created');
    const deleted = clusterEntry(s, 'cluster-1')
      .resources.filter((r) => r.status === 'Deleted')
      .map((r) => r.kind)
      .sort();
    expect(deleted).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(await clusterScoped(0)).toEqual({ roles: [], bindings: [] });
    expect(await canI('cluster-1', 'list', 'nodes')).toBe('no');
    // The namespaced permissions stay.
    expect(await canI('cluster-1', 'create', 'configmaps')).toBe('yes');
  });

  it('a reference pointed at another cluster: the old one is cleaned up, the new one gets the objects and a working kubeconfig', async () => {
    await t.http.post(`${path}/cluster-references`).send({ name: 'edge', 'cluster-name': 'cluster-2' }).expect(201);
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    expect(await namespaceExists(1, NS)).toBe(true);
    await t.http.delete(`${path}/cluster-references/cluster-1`).expect(204);
    expect((await applyAndSettle(t, PROJECT, LC)).status).toBe('Created');
    expect(await namespaceExists(0, NS)).toBe(false);

    await t.http.put(`${path}/cluster-references/edge`).send({ 'cluster-name': 'cluster-1' }).expect(200);
    const s = await applyAndSettle(t, PROJECT, LC);
    expect(s.status).toBe('Created');
    expect(s.clusters.map((c) => [c['cluster-reference'], c.cluster])).toEqual([['edge', 'cluster-1']]);
    expect(await namespaceExists(0, NS)).toBe(true);
    expect(await namespaceExists(1, NS)).toBe(false);
    const whoami = await kubectl({ text: await tenantKubeconfig(t.http, PROJECT, LC, 'edge') }, [
      'auth',
      'whoami',
      '-o',
      'json',
    ]);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe(`dcm:${PROJECT}:${LC}:${USER}`);
  });

  it('terminates: nothing of the logical cloud is left on either cluster', async () => {
    expect((await terminateAndSettle(t, PROJECT, LC)).status).toBe('Terminated');
    for (const i of [0, 1] as const) {
      expect(await namespaceExists(i, NS)).toBe(false);
      expect(await clusterScoped(i)).toEqual({ roles: [], bindings: [] });
    }
    await t.http.delete(path).expect(204);
  });
});
