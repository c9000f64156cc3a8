/**
 * The design's flow end to end on both real test clusters: create a logical cloud with the
 * design's bodies, reference both clusters, add the quota, apply, download the tenant's
 * kubeconfigs and show with kubectl exactly what they grant; converge after a change;
 * isolate a second tenant; terminate.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { adminKubeConfig, kubectl, testClusters } from '../support/backends.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { setUpProjectAndClusters } from '../support/rest.js';

const PROJECT = 'project-1';
const LC = `/v2/projects/${PROJECT}/logical-clouds`;

describe('apply a logical cloud to two real clusters', () => {
  let t: TestDcm;
  const tenant: Record<string, string> = {};

  const core = (i: number) => adminKubeConfig(testClusters[i]!.kubeconfigPath()).makeApiClient(CoreV1Api);
  const rbac = (i: number) => adminKubeConfig(testClusters[i]!.kubeconfigPath()).makeApiClient(RbacAuthorizationV1Api);
  const namespaceExists = (i: number, name: string) =>
    core(i)
      .readNamespace({ name })
      .then(
        () => true,
        (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
      );

  const applyAndSettle = async (lc: string) => {
    const res = await t.http.post(`${LC}/${lc}/apply`).expect(200);
    await t.dcm.services.lifecycle.settled(PROJECT, lc);
    return res;
  };
  const status = async (lc: string) => (await t.http.get(`${LC}/${lc}/status`).expect(200)).body;

  beforeAll(async () => {
    t = await startTestDcm('apply');
    for (const [i, ns] of [
      [0, 'ns-1'],
      [0, 'ns-2'],
      [1, 'ns-1'],
    ] as const) {
      // A namespace left by an interrupted earlier run would not be ours to manage.
      expect(await namespaceExists(i, ns)).toBe(false);
    }
    await setUpProjectAndClusters(t, PROJECT);
  });

  afterAll(async () => {
    await t.close();
  });

  it('creates the logical cloud, references both clusters and adds the quota (design bodies)', async () => {
    await t.http.post(LC).send(design.logicalCloud()).expect(201);
    for (const cluster of testClusters) {
      await t.http.post(`${LC}/lc-1/cluster-references`).send({ name: cluster.name }).expect(201);
    }
    await t.http.post(`${LC}/lc-1/cluster-quotas`).send(design.quota()).expect(201);
    const before = await status('lc-1');
    expect(before.status).toBe('Not Applied');
    const early = await t.http.get(`${LC}/lc-1/kubeconfig?cluster-reference=cluster-1`);
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/no certificate/);
  });

  it('applies: answers at once with the design body, then reaches Created on both clusters', async () => {
    const res = await applyAndSettle('lc-1');
    expect(res.body).toMatchObject({
      'logical-cloud-name': 'lc-1',
      namespace: 'ns-1',
      user: 'user-1',
      clusters: ['cluster-1', 'cluster-2'],
      'quota-name': 'quota-1',
    });
    const s = await status('lc-1');
    expect(s.status).toBe('Created');
    expect(s.clusters).toHaveLength(2);
    for (const c of s.clusters) {
      expect(c).toMatchObject({
        state: 'Applied',
        'namespace-status': 'Created',
        'user-certificate-status': 'Created',
        'role-status': 'Created',
        'role-binding-status': 'Created',
        'quota-status': 'Created',
      });
      // The design's permission-1 names pods and secrets in a group that does not serve them.
      expect(c.warnings.join('\n')).toMatch(
        /permission-1: resource pods is not served by group stable\.example\.com; it is served by group "" \(core\)/,
      );
    }
    const ns = await core(0).readNamespace({ name: 'ns-1' });
    expect(ns.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'dcm',
      'dcm.onap.org/logical-cloud': 'lc-1',
      'dcm.onap.org/project': PROJECT,
    });
  });

  it("hands out a kubeconfig per cluster whose certificate the cluster signed for the tenant's user", async () => {
    for (const cluster of testClusters) {
      const res = await t.http.get(`${LC}/lc-1/kubeconfig?cluster-reference=${cluster.name}`).expect(200);
      expect(res.headers['content-type']).toMatch(/application\/yaml/);
      tenant[cluster.name] = res.text;
      const whoami = await kubectl({ text: res.text }, ['auth', 'whoami', '-o', 'json']);
      expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
        username: `dcm:${PROJECT}:lc-1:user-1`,
        groups: expect.arrayContaining([expect.stringMatching(/^dcm:lc:[0-9a-f-]{36}:[0-9a-f]{12}$/)]),
      });
    }
    const json = await t.http.get(`${LC}/lc-1/kubeconfig`).set('Accept', 'application/json').expect(200);
    expect(json.headers['content-type']).toMatch(/application\/json/);
    const all = JSON.parse(json.text) as { contexts: { context: { namespace: string; cluster: string } }[] };
    expect(all.contexts.map((c) => c.context.cluster).sort()).toEqual(['cluster-1', 'cluster-2']);
    expect(all.contexts.every((c) => c.context.namespace === 'ns-1')).toBe(true);
  });

  it('grants exactly the permissions: configmaps in ns-1 yes; core pods, kube-system secrets, namespaces no', async () => {
    for (const cluster of testClusters) {
      const k = { text: tenant[cluster.name]! };
      const canI = async (...args: string[]) => (await kubectl(k, ['auth', 'can-i', ...args])).stdout.trim();
      expect(await canI('create', 'configmaps')).toBe('yes');
      expect(await canI('delete', 'configmaps', '-n', 'ns-1')).toBe('yes');
      expect(await canI('list', 'pods', '-n', 'ns-1')).toBe('no');
      expect(await canI('get', 'secrets', '-n', 'kube-system')).toBe('no');
      expect(await canI('list', 'namespaces')).toBe('no');
      expect(await canI('list', 'configmaps', '-n', 'default')).toBe('no');

      const created = await kubectl(k, ['create', 'configmap', 'tenant-cm', '--from-literal=a=b']);
      expect(created.stderr).toBe('');
      expect((await kubectl(k, ['get', 'configmap', 'tenant-cm', '-o', 'jsonpath={.data.a}'])).stdout).toBe('b');
      const pods = await kubectl(k, ['get', 'pods', '-n', 'ns-1']);
      expect(pods.stderr).toMatch(/forbidden/i);
      expect((await kubectl(k, ['get', 'secrets', '-n', 'kube-system'])).stderr).toMatch(/forbidden/i);
      expect((await kubectl(k, ['get', 'namespaces'])).stderr).toMatch(/forbidden/i);
    }
  });

  it("a cluster's certificate works there and nowhere else", async () => {
    const config = yaml.load(tenant['cluster-1']!) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    };
    const other = yaml.load(tenant['cluster-2']!) as typeof config;
    config.clusters[0]!.cluster = other.clusters[0]!.cluster;
    const res = await kubectl({ text: yaml.dump(config) }, ['get', 'configmaps']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/Unauthorized|must be logged in/i);
  });

  it('applying again changes nothing', async () => {
    const role = () => rbac(0).readNamespacedRole({ name: 'dcm-permission-2', namespace: 'ns-1' });
    const before = (await role()).metadata?.resourceVersion;
    const certBefore = tenant['cluster-1'];
    await applyAndSettle('lc-1');
    expect((await role()).metadata?.resourceVersion).toBe(before);
    const again = await t.http.get(`${LC}/lc-1/kubeconfig?cluster-reference=cluster-1`).expect(200);
    expect(again.text).toBe(certBefore);
    expect((await status('lc-1')).status).toBe('Created');
  });

  it('converges after a change: a permission for core pods makes pods listable; the quota is enforced', async () => {
    await t.http
      .post(`${LC}/lc-1/user-permissions`)
      .send({
        name: 'permission-4',
        apiGroups: [''],
        resources: ['pods', 'resourcequotas'],
        verbs: ['get', 'list', 'create'],
      })
      .expect(201);
    await applyAndSettle('lc-1');
    const k = { text: tenant['cluster-1']! };
    expect((await kubectl(k, ['auth', 'can-i', 'list', 'pods'])).stdout.trim()).toBe('yes');
    const pods = await kubectl(k, ['get', 'pods']);
    expect(pods.code).toBe(0);

    const quota = await kubectl(k, ['get', 'resourcequota', 'dcm-quota-quota-1', '-o', 'json']);
    expect(JSON.parse(quota.stdout).spec.hard).toEqual({
      'requests.cpu': '400',
      'requests.memory': '1000Gi',
      pods: '500',
    });
    const overQuota = await kubectl(k, [
      'run',
      'too-big',
      '--image=registry.invalid/none',
      '--restart=Never',
      '--overrides={"spec":{"containers":[{"name":"too-big","image":"registry.invalid/none","resources":{"requests":{"cpu":"401","memory":"1Gi"},"limits":{"cpu":"401","memory":"1Gi"}}}]}}',
    ]);
    // Limits too: the namespace's default limit (docs/isolation.md) would be below a request of 401 CPUs.
    expect(overQuota.code).not.toBe(0);
    expect(overQuota.stderr).toMatch(/exceeded quota: dcm-quota-quota-1/);

    // Removing the permission again removes its Role and RoleBinding.
    await t.http.delete(`${LC}/lc-1/user-permissions/permission-4`).expect(204);
    await applyAndSettle('lc-1');
    expect((await kubectl(k, ['auth', 'can-i', 'list', 'pods'])).stdout.trim()).toBe('no');
    await expect(rbac(0).readNamespacedRole({ name: 'dcm-permission-4', namespace: 'ns-1' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it("a second logical cloud's tenant cannot touch the first one's namespace", async () => {
    const second = design.logicalCloud();
    second.metadata.name = 'lc-2';
    second.spec.namespace = 'ns-2';
    second.spec.user['user-name'] = 'user-2';
    await t.http.post(LC).send(second).expect(201);
    await t.http.post(`${LC}/lc-2/cluster-references`).send({ name: 'cluster-1' }).expect(201);
    await applyAndSettle('lc-2');
    expect((await status('lc-2')).status).toBe('Created');
    const k2 = { text: (await t.http.get(`${LC}/lc-2/kubeconfig?cluster-reference=cluster-1`).expect(200)).text };
    expect((await kubectl(k2, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
    expect((await kubectl(k2, ['auth', 'can-i', 'get', 'configmaps', '-n', 'ns-1'])).stdout.trim()).toBe('no');
    expect((await kubectl(k2, ['get', 'configmap', 'tenant-cm', '-n', 'ns-1'])).stderr).toMatch(/forbidden/i);

    await t.http.post(`${LC}/lc-2/terminate`).expect(202);
    await t.dcm.services.lifecycle.settled(PROJECT, 'lc-2');
    expect((await status('lc-2')).status).toBe('Terminated');
    await t.http.delete(`${LC}/lc-2`).expect(204);
  });

  it('refuses to delete an applied logical cloud, or to change its namespace', async () => {
    const del = await t.http.delete(`${LC}/lc-1`).expect(409);
    expect(del.body.message).toMatch(/terminate it before deleting/);
    const body = design.logicalCloud();
    body.spec.namespace = 'ns-other';
    const { metadata, ...rest } = body;
    const put = await t.http
      .put(`${LC}/lc-1`)
      .send({ metadata: { description: metadata.description }, ...rest })
      .expect(409);
    expect(put.body.message).toMatch(/cannot change while it is applied/);
  });

  it('terminates: the namespace is gone and the certificate grants nothing any more', async () => {
    const res = await t.http.post(`${LC}/lc-1/terminate`).expect(202);
    expect(res.body.status).toBe('Termination in Progress');
    await t.dcm.services.lifecycle.settled(PROJECT, 'lc-1');
    const s = await status('lc-1');
    expect(s.status).toBe('Terminated');
    for (const c of s.clusters) expect(c).toMatchObject({ state: 'Terminated', 'namespace-status': 'Deleted' });
    for (const i of [0, 1]) expect(await namespaceExists(i, 'ns-1')).toBe(false);
    for (const cluster of testClusters) {
      const k = { text: tenant[cluster.name]! };
      expect((await kubectl(k, ['auth', 'can-i', 'create', 'configmaps', '-n', 'ns-1'])).stdout.trim()).toBe('no');
      expect((await kubectl(k, ['auth', 'can-i', '--list'])).stdout).not.toMatch(/configmaps/);
    }
    expect((await t.http.get(`${LC}/lc-1/kubeconfig?cluster-reference=cluster-1`)).status).toBe(409);
    await t.http.delete(`${LC}/lc-1`).expect(204);
  });
});
