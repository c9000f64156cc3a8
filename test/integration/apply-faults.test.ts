/**
 * Faults (issue 4, point 6): a cluster that is down or rejects an object fails only its own
 * entries, with the reason in status; the other clusters complete; applying again retries
 * only what is missing; calls to clusters have timeouts, so nothing hangs.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { kubectl } from '../support/backends.js';
import { createProject, createProvider, kubeconfigText, lcPath, registerCluster } from '../support/rest.js';
import { waitFor } from '../testenv/processes.js';
import {
  admin,
  applyAndSettle,
  closedPort,
  clusterEntry,
  composeDcm,
  core,
  namespaceExists,
  rbac,
  readNamespace,
  readRole,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  terminateAndSettle,
  withServer,
} from './apply-helpers.js';

const PROJECT = 'project-faults';
const PROVIDER = 'provider-faults';
const NAMESPACES = ['ns-faults-1', 'ns-faults-2', 'ns-faults-3', 'ns-faults-4', 'ns-faults-5', 'ns-faults-6'];
const LOGICAL_CLOUDS = ['lc-faults-1', 'lc-faults-2', 'lc-faults-3', 'lc-faults-4', 'lc-faults-5', 'lc-faults-6'];
/** A valid quota key, which a ValidatingAdmissionPolicy on test cluster 1 refuses (see refusingPolicy). */
const REJECTED_KEY = 'count/refused.example.com';
const POLICY = 'dcm-test-refuse-quota';
const admission = () => admin(0).makeApiClient(AdmissionregistrationV1Api);

/** Makes test cluster 1 refuse every ResourceQuota with REJECTED_KEY; waits until the API server enforces it. */
async function refusingPolicy(): Promise<void> {
  await removeRefusingPolicy();
  await admission().createValidatingAdmissionPolicy({
    body: {
      metadata: { name: POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['resourcequotas'] },
          ],
        },
        validations: [
          {
            expression: `!has(object.spec.hard) || !('${REJECTED_KEY}' in object.spec.hard)`,
            message: `${REJECTED_KEY} is refused on this cluster (test policy)`,
          },
        ],
      },
    },
  });
  await admission().createValidatingAdmissionPolicyBinding({
    body: { metadata: { name: POLICY }, spec: { policyName: POLICY, validationActions: ['Deny'] } },
  });
  const probe = { metadata: { name: 'policy-probe' }, spec: { hard: { [REJECTED_KEY]: '1' } } };
  await waitFor(
    'the test admission policy',
    async () => {
      try {
        await core(0).createNamespacedResourceQuota({ namespace: 'default', body: probe, dryRun: 'All' });
        return false;
      } catch (error) {
        return /test policy/.test(String((error as { body?: unknown }).body));
      }
    },
    { timeoutMs: 30_000 },
  );
}

async function removeRefusingPolicy(): Promise<void> {
  await admission()
    .deleteValidatingAdmissionPolicyBinding({ name: POLICY })
    .catch(() => undefined);
  await admission()
    .deleteValidatingAdmissionPolicy({ name: POLICY })
    .catch(() => undefined);
}

describe('apply with a cluster that is down or refuses an object', () => {
  let t: TestDcm;
  const lc = (name: string) => lcPath(PROJECT, name);

  beforeAll(async () => {
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
    t = await startTestDcm('apply_faults');
    await createProject(t, PROJECT);
    await createProvider(t, PROVIDER);
    await registerCluster(t, PROVIDER, 'cluster-1', 1);
    const down = withServer(kubeconfigText(1), `https://127.0.0.1:${await closedPort()}`);
    await t.http
      .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
      .send({ metadata: { name: 'cluster-down' }, spec: { kubeconfig: down } })
      .expect(201);
    await refusingPolicy();
  });

  afterAll(async () => {
    await removeRefusingPolicy();
    await t?.close();
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
  });

  describe('a cluster that cannot be reached', () => {
    it('fails only its own entries, with the connection error; the other cluster completes, at once', async () => {
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-1', 'ns-faults-1', 'user-faults-1'))
        .expect(201);
      for (const name of ['cluster-1', 'cluster-down'])
        await t.http
          .post(`${lc('lc-faults-1')}/cluster-references`)
          .send({ name })
          .expect(201);

      const started = Date.now();
      const s = await applyAndSettle(t, PROJECT, 'lc-faults-1');
      // A refused connection answers at once: nothing may wait for the 10 s cluster timeout.
      expect(Date.now() - started).toBeLessThan(10_000);

      expect(s.status).toBe('Creation Failed');
      const down = clusterEntry(s, 'cluster-down');
      expect(down).toMatchObject({
        state: 'Failed',
        'namespace-status': 'Failed',
        'user-certificate-status': 'None',
        'role-status': 'None',
        'quota-status': 'None',
      });
      expect(down.errors).toEqual([expect.stringMatching(/^Namespace ns-faults-1: .*ECONNREFUSED 127\.0\.0\.1:\d+/)]);
      expect(clusterEntry(s, 'cluster-1')).toMatchObject({
        state: 'Applied',
        'namespace-status': 'Created',
        'user-certificate-status': 'Created',
        'role-status': 'Created',
        'role-binding-status': 'Created',
        errors: [],
      });
    });

    it("hands out the healthy cluster's kubeconfig, which works; none for the cluster that is down", async () => {
      const k = { text: await tenantKubeconfig(t.http, PROJECT, 'lc-faults-1', 'cluster-1') };
      const whoami = await kubectl(k, ['auth', 'whoami', '-o', 'json']);
      expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe(`dcm:${PROJECT}:lc-faults-1:user-faults-1`);
      expect((await kubectl(k, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');

      const none = await t.http.get(`${lc('lc-faults-1')}/kubeconfig?cluster-reference=cluster-down`);
      expect(none.status).toBe(409);
      expect(none.body.message).toMatch(/no certificate for cluster reference cluster-down/);
      const all = await t.http
        .get(`${lc('lc-faults-1')}/kubeconfig`)
        .set('Accept', 'application/json')
        .expect(200);
      expect((JSON.parse(all.text) as { clusters: { name: string }[] }).clusters.map((c) => c.name)).toEqual([
        'cluster-1',
      ]);
    });

    it('without the reference to it, applying again completes and leaves the healthy cluster as it was', async () => {
      const roleBefore = (await readRole(0, 'ns-faults-1', 'dcm-permission-2'))?.metadata?.resourceVersion;
      expect(roleBefore).toBeDefined();
      await t.http.delete(`${lc('lc-faults-1')}/cluster-references/cluster-down`).expect(204);

      const s = await applyAndSettle(t, PROJECT, 'lc-faults-1');
      expect(s.status).toBe('Created');
      expect(s.clusters.map((c) => c['cluster-reference'])).toEqual(['cluster-1']);
      expect((await readRole(0, 'ns-faults-1', 'dcm-permission-2'))?.metadata?.resourceVersion).toBe(roleBefore);

      const done = await terminateAndSettle(t, PROJECT, 'lc-faults-1');
      expect(done.status).toBe('Terminated');
      expect(await namespaceExists(0, 'ns-faults-1')).toBe(false);
      await t.http.delete(lc('lc-faults-1')).expect(204);
    });

    it('a cluster that goes down after an apply still holds its objects: removed, it is cleaned up once it is back', async () => {
      const registration = (kubeconfig: string) => ({ metadata: { name: 'cluster-flaky' }, spec: { kubeconfig } });
      const flaky = `/v2/cluster-providers/${PROVIDER}/clusters/cluster-flaky`;
      // Test cluster 1 under another name; cluster-2 keeps the logical cloud applicable once the reference is gone.
      await t.http
        .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
        .send(registration(kubeconfigText(1)))
        .expect(201);
      await registerCluster(t, PROVIDER, 'cluster-2', 2);
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-6', 'ns-faults-6', 'user-faults-6'))
        .expect(201);
      for (const name of ['cluster-flaky', 'cluster-2'])
        await t.http
          .post(`${lc('lc-faults-6')}/cluster-references`)
          .send({ name })
          .expect(201);
      expect((await applyAndSettle(t, PROJECT, 'lc-faults-6')).status).toBe('Created');
      expect(await namespaceExists(0, 'ns-faults-6')).toBe(true);

      await t.http
        .put(flaky)
        .send(registration(withServer(kubeconfigText(1), `https://127.0.0.1:${await closedPort()}`)))
        .expect(200);
      const down = await applyAndSettle(t, PROJECT, 'lc-faults-6');
      expect(down.status).toBe('Creation Failed');
      expect(clusterEntry(down, 'cluster-flaky').errors).toEqual([expect.stringMatching(/ECONNREFUSED/)]);

      await t.http.delete(`${lc('lc-faults-6')}/cluster-references/cluster-flaky`).expect(204);
      const pending = await applyAndSettle(t, PROJECT, 'lc-faults-6');
      expect(pending.status).toBe('Creation Failed');
      expect(clusterEntry(pending, 'cluster-flaky')).toMatchObject({ state: 'TerminateFailed' });
      expect(clusterEntry(pending, 'cluster-2')).toMatchObject({ state: 'Applied', errors: [] });
      expect(await namespaceExists(0, 'ns-faults-6')).toBe(true);
      // Unreferenced, but still holding objects: the cluster cannot be deleted yet (its kubeconfig is needed to clean up).
      const refused = await t.http.delete(flaky);
      expect({ status: refused.status, message: (refused.body as { message: string }).message }).toEqual({
        status: 409,
        message: expect.stringMatching(new RegExp(`still holds objects of logical cloud ${PROJECT}/lc-faults-6`)),
      });

      await t.http
        .put(flaky)
        .send(registration(kubeconfigText(1)))
        .expect(200);
      const back = await applyAndSettle(t, PROJECT, 'lc-faults-6');
      expect(back.status).toBe('Created');
      expect(back.clusters.map((c) => c['cluster-reference'])).toEqual(['cluster-2']);
      expect(await namespaceExists(0, 'ns-faults-6')).toBe(false);
      await t.http.delete(flaky).expect(204);

      expect((await terminateAndSettle(t, PROJECT, 'lc-faults-6')).status).toBe('Terminated');
      expect(await namespaceExists(1, 'ns-faults-6')).toBe(false);
      await t.http.delete(lc('lc-faults-6')).expect(204);
    });
  });

  describe('an object the apiserver refuses', () => {
    it('the DCM accepts the quota; the apiserver refuses its ResourceQuota, which fails alone, with the reason', async () => {
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-2', 'ns-faults-2', 'user-faults-2'))
        .expect(201);
      await t.http
        .post(`${lc('lc-faults-2')}/cluster-references`)
        .send({ name: 'cluster-1' })
        .expect(201);
      await t.http
        .post(`${lc('lc-faults-2')}/cluster-quotas`)
        .send(design.quota())
        .expect(201);
      await t.http
        .post(`${lc('lc-faults-2')}/cluster-quotas`)
        .send({ metadata: { name: 'quota-refused' }, spec: { pods: '10', [REJECTED_KEY]: '2' } })
        .expect(201);

      const s = await applyAndSettle(t, PROJECT, 'lc-faults-2');
      expect(s.status).toBe('Creation Failed');
      const c1 = clusterEntry(s, 'cluster-1');
      expect(c1).toMatchObject({
        state: 'Failed',
        'namespace-status': 'Created',
        'user-certificate-status': 'Created',
        'role-status': 'Created',
        'role-binding-status': 'Created',
        'quota-status': 'Failed',
      });
      const quotas = c1.resources.filter((r) => r.kind === 'ResourceQuota');
      expect(quotas).toEqual([
        { category: 'quota', kind: 'ResourceQuota', name: 'dcm-quota-quota-1', status: 'Created' },
        {
          category: 'quota',
          kind: 'ResourceQuota',
          name: 'dcm-quota-quota-refused',
          status: 'Failed',
          message: expect.stringMatching(/refused on this cluster \(test policy\)/),
        },
      ]);
      expect(c1.errors).toEqual([expect.stringMatching(/^ResourceQuota dcm-quota-quota-refused: .*denied request/)]);
      await expect(
        core(0).readNamespacedResourceQuota({ name: 'dcm-quota-quota-refused', namespace: 'ns-faults-2' }),
      ).rejects.toMatchObject({ code: 404 });
      // What did not fail is usable.
      const k = { text: await tenantKubeconfig(t.http, PROJECT, 'lc-faults-2', 'cluster-1') };
      expect((await kubectl(k, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
    });

    it('applying again retries only what is missing: what was created is not redone', async () => {
      const rv = async () => ({
        role: (await readRole(0, 'ns-faults-2', 'dcm-permission-2'))?.metadata?.resourceVersion,
        binding: (await rbac(0).readNamespacedRoleBinding({ name: 'dcm-permission-2', namespace: 'ns-faults-2' }))
          .metadata?.resourceVersion,
        quota: (await core(0).readNamespacedResourceQuota({ name: 'dcm-quota-quota-1', namespace: 'ns-faults-2' }))
          .metadata?.resourceVersion,
      });
      const before = await rv();
      const kubeconfigBefore = await tenantKubeconfig(t.http, PROJECT, 'lc-faults-2', 'cluster-1');

      const again = await applyAndSettle(t, PROJECT, 'lc-faults-2');
      expect(again.status).toBe('Creation Failed');
      expect(clusterEntry(again, 'cluster-1').errors).toEqual([
        expect.stringMatching(/^ResourceQuota dcm-quota-quota-refused: /),
      ]);
      expect(await rv()).toEqual(before);

      // Once the quota is one the apiserver takes, the next apply completes, still without redoing the rest.
      await t.http
        .put(`${lc('lc-faults-2')}/cluster-quotas/quota-refused`)
        .send({ spec: { pods: '10', 'count/widgets.example.com': '2' } })
        .expect(200);
      const fixed = await applyAndSettle(t, PROJECT, 'lc-faults-2');
      expect(fixed.status).toBe('Created');
      const c1 = clusterEntry(fixed, 'cluster-1');
      expect(c1.resources.find((r) => r.category === 'user-certificate')).toMatchObject({
        status: 'Created',
        message: 'valid certificate reused',
      });
      expect(await rv()).toEqual(before);
      expect(await tenantKubeconfig(t.http, PROJECT, 'lc-faults-2', 'cluster-1')).toBe(kubeconfigBefore);
      const quota = await core(0).readNamespacedResourceQuota({
        name: 'dcm-quota-quota-refused',
        namespace: 'ns-faults-2',
      });
      expect(quota.spec?.hard).toEqual({ pods: '10', 'count/widgets.example.com': '2' });

      expect((await terminateAndSettle(t, PROJECT, 'lc-faults-2')).status).toBe('Terminated');
      expect(await namespaceExists(0, 'ns-faults-2')).toBe(false);
      await t.http.delete(lc('lc-faults-2')).expect(204);
    });
  });

  describe('a namespace that exists and is not the logical cloud’s', () => {
    it('is reported in status and never taken over: nothing is created in it', async () => {
      await core(0).createNamespace({ body: { metadata: { name: 'ns-faults-3', labels: { owner: 'someone-else' } } } });
      await core(0).createNamespacedConfigMap({
        namespace: 'ns-faults-3',
        body: { metadata: { name: 'owner-data' }, data: { a: 'b' } },
      });
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-3', 'ns-faults-3', 'user-faults-3'))
        .expect(201);
      await t.http
        .post(`${lc('lc-faults-3')}/cluster-references`)
        .send({ name: 'cluster-1' })
        .expect(201);

      const s = await applyAndSettle(t, PROJECT, 'lc-faults-3');
      expect(s.status).toBe('Creation Failed');
      const c1 = clusterEntry(s, 'cluster-1');
      expect(c1).toMatchObject({
        state: 'Failed',
        'namespace-status': 'Failed',
        'role-status': 'None',
        'user-certificate-status': 'None',
      });
      expect(c1.errors).toEqual([expect.stringMatching(/^Namespace ns-faults-3: .*not managed by this logical cloud/)]);

      const ns = await readNamespace(0, 'ns-faults-3');
      expect(ns?.metadata?.labels).toEqual({ owner: 'someone-else', 'kubernetes.io/metadata.name': 'ns-faults-3' });
      expect((await rbac(0).listNamespacedRole({ namespace: 'ns-faults-3' })).items).toEqual([]);
      expect((await rbac(0).listNamespacedRoleBinding({ namespace: 'ns-faults-3' })).items).toEqual([]);
    });

    it('terminate has nothing to undo there: the namespace and its data stay; the logical cloud can be deleted', async () => {
      const s = await terminateAndSettle(t, PROJECT, 'lc-faults-3');
      expect(s.status).toBe('Terminated');
      expect(s.clusters).toEqual([]);
      expect((await core(0).readNamespacedConfigMap({ name: 'owner-data', namespace: 'ns-faults-3' })).data).toEqual({
        a: 'b',
      });
      expect((await readNamespace(0, 'ns-faults-3'))?.status?.phase).toBe('Active');
      await t.http.delete(lc('lc-faults-3')).expect(204);
      await removeLeftovers(['ns-faults-3'], []);
    });

    it('a namespace replaced behind its back after an apply is left in place on terminate, with a warning', async () => {
      await t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-5', 'ns-faults-5', 'user-faults-5'))
        .expect(201);
      await t.http
        .post(`${lc('lc-faults-5')}/cluster-references`)
        .send({ name: 'cluster-1' })
        .expect(201);
      expect((await applyAndSettle(t, PROJECT, 'lc-faults-5')).status).toBe('Created');
      await removeLeftovers(['ns-faults-5'], []);
      await core(0).createNamespace({ body: { metadata: { name: 'ns-faults-5' } } });
      await core(0).createNamespacedConfigMap({
        namespace: 'ns-faults-5',
        body: { metadata: { name: 'owner-data' }, data: { a: 'b' } },
      });

      const s = await terminateAndSettle(t, PROJECT, 'lc-faults-5');
      expect(s.status).toBe('Terminated');
      const c1 = clusterEntry(s, 'cluster-1');
      expect(c1).toMatchObject({ state: 'Terminated', 'namespace-status': 'None', errors: [] });
      expect(c1.warnings).toEqual([
        expect.stringMatching(/^namespace ns-faults-5 is not managed by this logical cloud; left in place$/),
      ]);
      expect((await core(0).readNamespacedConfigMap({ name: 'owner-data', namespace: 'ns-faults-5' })).data).toEqual({
        a: 'b',
      });
      await t.http.delete(lc('lc-faults-5')).expect(204);
      await removeLeftovers(['ns-faults-5'], []);
    });
  });

  describe('a cluster that accepts connections and never answers', () => {
    let silent: net.Server;
    const sockets = new Set<net.Socket>();
    let d: Awaited<ReturnType<typeof composeDcm>>;
    const TIMEOUT_MS = 1500;

    beforeAll(async () => {
      silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as net.AddressInfo;
      // A DCM of its own on the same database, with a short cluster timeout.
      d = await composeDcm(t.mongo.db(t.databaseName), TIMEOUT_MS);
      await d.http
        .post(`/v2/cluster-providers/${PROVIDER}/clusters`)
        .send({
          metadata: { name: 'cluster-silent' },
          spec: { kubeconfig: withServer(kubeconfigText(1), `https://127.0.0.1:${port}`) },
        })
        .expect(201);
      await d.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(tenantLogicalCloud('lc-faults-4', 'ns-faults-4', 'user-faults-4'))
        .expect(201);
      for (const name of ['cluster-1', 'cluster-silent'])
        await d.http
          .post(`${lc('lc-faults-4')}/cluster-references`)
          .send({ name })
          .expect(201);
    });

    afterAll(async () => {
      await d?.dcm.services.lifecycle.idle();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent?.close(resolve));
    });

    it('apply gives up on it after the cluster timeout, with the reason; the other cluster completes', async () => {
      const started = Date.now();
      const s = await applyAndSettle(d, PROJECT, 'lc-faults-4');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 10_000);
      expect(s.status).toBe('Creation Failed');
      expect(clusterEntry(s, 'cluster-silent')).toMatchObject({ state: 'Failed', 'namespace-status': 'Failed' });
      expect(clusterEntry(s, 'cluster-silent').errors).toEqual([
        expect.stringMatching(
          new RegExp(`^Namespace ns-faults-4: .*no answer from https://127\\.0\\.0\\.1:\\d+ within ${TIMEOUT_MS} ms`),
        ),
      ]);
      expect(clusterEntry(s, 'cluster-1')).toMatchObject({ state: 'Applied', errors: [] });
      expect(sockets.size).toBeGreaterThan(0);
    });

    it('terminate too: every call to it is bounded, it stays in status as not cleaned up, the other cluster is', async () => {
      const started = Date.now();
      const s = await terminateAndSettle(d, PROJECT, 'lc-faults-4');
      // rbac (4 kinds), quota, user and namespace: at most one timeout each.
      expect(Date.now() - started).toBeLessThan(7 * TIMEOUT_MS + 10_000);
      expect(s.status).toBe('Termination Failed');
      expect(clusterEntry(s, 'cluster-1')).toMatchObject({ state: 'Terminated', 'namespace-status': 'Deleted' });
      const stuck = clusterEntry(s, 'cluster-silent');
      expect(stuck.state).toBe('TerminateFailed');
      expect(stuck.errors.length).toBeGreaterThan(0);
      for (const error of stuck.errors) expect(error).toMatch(/no answer from .* within 1500 ms/);
      expect(await namespaceExists(0, 'ns-faults-4')).toBe(false);
      // Still holding (possibly) objects on the silent cluster: not deletable yet.
      expect((await d.http.delete(lc('lc-faults-4'))).status).toBe(409);
    });
  });
});
