/**
 * Issue 29 item 2: automatic re-applies (drift repair, certificate renewal) obey the project's
 * policy as it is now, on the real test clusters. A project caller applies a logical cloud with a
 * cluster-wide permission on both clusters; an admin then takes `clusterWide` out of the policy
 * and deletes the tenant's ClusterRoleBinding: drift repair does not restore it (the cluster is
 * Failed, saying why), neither does a renewal. An admin takes cluster 2 out of the policy: the
 * renewal issues no new certificate there (status says why) while cluster 1's is renewed. An
 * admin's own apply keeps the admin's exemption (`policyExempt`), and repairs are then unbounded.
 *
 * Both clusters are registered with their CA keys, so that the DCM signs 60-second certificates
 * (the CSR API takes no less than 600 s) and renewal is due within the test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import supertest from 'supertest';
import { loadAuth } from '../../src/auth/setup.js';
import { defaultConfig } from '../../src/config.js';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { caKeyText, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import {
  logicalCloudSelector,
  rbac,
  removeLeftovers,
  statusOf,
  tenantLogicalCloud,
  type ClusterIndex,
  type StatusBody,
} from './apply-helpers.js';
import { TOKENS, writeTokenFile } from './auth-fixtures.js';

type Client = ReturnType<typeof supertest>;

const PROJECT = 'p1'; // team-1's project in the token file (auth-fixtures.ts)
const LC = 'lc-reapply';
const NS = 'ns-reapply';
const CERTIFICATE_SECONDS = 60;
const CLUSTER_WIDE = {
  name: 'read-namespaces',
  namespace: '',
  apiGroups: [''],
  resources: ['namespaces'],
  verbs: ['get', 'list', 'watch'],
};
const POLICY = {
  clusters: { providers: ['provider-1'] },
  clusterWide: {
    allowed: true,
    ceiling: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }],
  },
};

interface StatusWithPolicy extends StatusBody {
  policyExempt: boolean;
  clusters: (StatusBody['clusters'][number] & { 'certificate-not-after': string | null })[];
}

describe('automatic re-applies obey the project policy as it is now', () => {
  let t: TestDcm;
  let admin: Client;
  let team1: Client;
  let tenant: string;
  const tokens = writeTokenFile();

  const status = async () => (await statusOf(admin, PROJECT, LC)) as StatusWithPolicy;
  const cluster = async (reference: 'cluster-1' | 'cluster-2') =>
    (await status()).clusters.find((c) => c['cluster-reference'] === reference)!;
  const tenantBindings = async (i: ClusterIndex) =>
    (await rbac(i).listClusterRoleBinding({ labelSelector: logicalCloudSelector(LC) })).items.map(
      (b) => b.metadata!.name!,
    );
  const tenantClusterRoles = async (i: ClusterIndex) =>
    (await rbac(i).listClusterRole({ labelSelector: logicalCloudSelector(LC) })).items.map((r) => r.metadata!.name!);
  const tenantCanListNamespaces = async () =>
    (await kubectl({ text: tenant }, ['auth', 'can-i', 'list', 'namespaces'])).stdout.trim() === 'yes';
  const watcher = () => t.dcm.services.driftWatcher;
  const notAfter = (c: { 'certificate-not-after': string | null }) =>
    c['certificate-not-after'] ? new Date(c['certificate-not-after']).getTime() : null;

  beforeAll(async () => {
    const caKeys = [caKeyText(1), caKeyText(2)];
    if (!caKeys[0] || !caKeys[1])
      throw new Error(
        "this test needs both test clusters with their CA keys (the project's own test backends provide them)",
      );
    await removeLeftovers([NS], [LC]);
    const auth = loadAuth({ ...defaultConfig(), DCM_DEVELOPMENT_MODE: false, DCM_AUTH_TOKENS_FILE: tokens.file });
    t = await startTestDcm('policy_reapply', {
      auth,
      config: {
        ...defaultConfig(),
        DCM_CLUSTER_TIMEOUT_MS: 10_000,
        DCM_DRIFT_DEBOUNCE_MS: 300,
        DCM_CERT_VALIDITY_SECONDS: CERTIFICATE_SECONDS,
      },
    });
    admin = supertest.agent(t.dcm.app).set('Authorization', `Bearer ${TOKENS.admin}`);
    team1 = supertest.agent(t.dcm.app).set('Authorization', `Bearer ${TOKENS.team1}`);
    await admin
      .post('/v2/projects')
      .send({ metadata: { name: PROJECT } })
      .expect(201);
    await admin
      .post('/v2/cluster-providers')
      .send({ metadata: { name: 'provider-1' } })
      .expect(201);
    for (const i of [1, 2] as const) {
      await admin
        .post('/v2/cluster-providers/provider-1/clusters')
        .send({ metadata: { name: `cluster-${i}` }, spec: { kubeconfig: kubeconfigText(i), 'ca-key': caKeys[i - 1] } })
        .expect(201);
    }
    await admin.put(`/v2/projects/${PROJECT}/policy`).send({ spec: POLICY }).expect(200);

    // Everything by the project's caller, within the policy as it is then.
    const body = tenantLogicalCloud(LC, NS, 'user-reapply');
    body.spec.user['user-permissions'] = [
      {
        'permission-name': 'permission-1',
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['get', 'list', 'create'],
      },
    ];
    await team1.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    await team1
      .post(`${lcPath(PROJECT, LC)}/user-permissions`)
      .send(CLUSTER_WIDE)
      .expect(201);
    for (const c of ['cluster-1', 'cluster-2']) {
      await team1
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c, 'cluster-provider': 'provider-1', 'cluster-name': c })
        .expect(201);
    }
    await team1.post(`${lcPath(PROJECT, LC)}/apply`).expect(200);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const applied = await status();
    expect({
      state: applied.state,
      errors: applied.clusters.flatMap((c) => c.errors),
      policyExempt: applied.policyExempt,
    }).toEqual({
      state: 'Instantiated',
      errors: [],
      policyExempt: false,
    });
    const kubeconfig = await admin.get(`${lcPath(PROJECT, LC)}/kubeconfig?cluster-reference=cluster-1`);
    expect(kubeconfig.status).toBe(200);
    tenant = kubeconfig.text;
    expect(await tenantCanListNamespaces()).toBe(true);
    await watcher().start();
    await watcher().idle();
  });

  afterAll(async () => {
    tokens.remove();
    await t?.dcm.services.driftWatcher.stop();
    await t?.dcm.services.jobs.stop();
    const res = await admin?.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('a narrowed policy: the ClusterRoleBinding an admin deleted stays deleted after drift checks and after a renewal', async () => {
    const [binding] = await tenantBindings(0);
    expect(binding).toBeDefined();
    await admin
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { ...POLICY, clusterWide: { allowed: false } } })
      .expect(200);
    await rbac(0).deleteClusterRoleBinding({ name: binding! });
    expect(await tenantCanListNamespaces()).toBe(false);

    // The deletion's watch event brings a drift check: it obeys the policy, restores nothing and says why.
    const refusal =
      /Permission read-namespaces: not applied, its objects removed: denied by the policy of project p1 as it is now: permission read-namespaces is cluster-wide/;
    await until(
      async () => (await cluster('cluster-1')).errors.some((e) => refusal.test(e)),
      'the drift check of cluster 1 to record the policy refusal',
    );
    await watcher().idle();
    await watcher().resyncAll();
    await watcher().idle();
    expect(await tenantBindings(0)).toEqual([]);
    // What the policy no longer admits is removed: the ClusterRole went too.
    expect(await tenantClusterRoles(0)).toEqual([]);
    expect(await tenantCanListNamespaces()).toBe(false);
    expect((await cluster('cluster-1')).state).toBe('Failed');
    // The namespaced permission is untouched.
    expect((await kubectl({ text: tenant }, ['auth', 'can-i', 'list', 'configmaps', '-n', NS])).stdout.trim()).toBe(
      'yes',
    );

    // A renewal (an automatic apply of every cluster) restores nothing either, and removes the refused objects from cluster 2.
    expect(await t.dcm.services.certificateRenewal.runOnce(new Date(Date.now() + 24 * 3600_000))).toHaveLength(1);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    expect(await tenantBindings(0)).toEqual([]);
    expect(await tenantBindings(1)).toEqual([]);
    expect(await tenantClusterRoles(1)).toEqual([]);
    const after = await status();
    expect(after.state).toBe('InstantiateFailed');
    expect(after.policyExempt).toBe(false);
    for (const c of after.clusters)
      expect({ cluster: c.cluster, state: c.state, refused: c.errors.some((e) => refusal.test(e)) }).toEqual({
        cluster: c.cluster,
        state: 'Failed',
        refused: true,
      });
    await watcher().idle();
    expect(await tenantBindings(0)).toEqual([]);
  });

  it('a cluster taken out of the policy gets no new certificate at renewal (status says why); the admitted one is renewed', async () => {
    await admin
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { clusters: ['provider-1/cluster-1'] }, clusterWide: { allowed: false } } })
      .expect(200);
    const before = await status();
    const first = Object.fromEntries(before.clusters.map((c) => [c.cluster, notAfter(c)]));
    expect(first['cluster-1']).not.toBeNull();
    expect(first['cluster-2']).not.toBeNull();

    // Nobody asks: the renewal job finds the certificates due (two thirds into their life) and applies again.
    await until(
      async () => (await t.dcm.services.certificateRenewal.runOnce()).length > 0,
      'a renewal to start',
      4 * CERTIFICATE_SECONDS * 1000,
      1000,
    );
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const renewed = await status();
    const one = renewed.clusters.find((c) => c.cluster === 'cluster-1')!;
    const two = renewed.clusters.find((c) => c.cluster === 'cluster-2')!;
    expect(notAfter(one)).toBeGreaterThan(first['cluster-1']!);
    expect(notAfter(two)).toBeNull();
    expect(two.state).toBe('Failed');
    expect(two.errors).toEqual([
      expect.stringMatching(
        /^Cluster cluster-2: not applied: denied by the policy of project p1 as it is now: cluster cluster-2 of provider provider-1 is not among the clusters the project may use$/,
      ),
    ]);
    // The kubeconfig has no cluster 2 any more.
    expect((await admin.get(`${lcPath(PROJECT, LC)}/kubeconfig?cluster-reference=cluster-2`)).status).toBe(409);

    // A drift check of cluster 2 issues nothing there either.
    await watcher().resyncAll();
    await watcher().idle();
    const checked = await cluster('cluster-2');
    expect({ state: checked.state, notAfter: notAfter(checked) }).toEqual({ state: 'Failed', notAfter: null });
  });

  it("an admin's apply keeps the admin's exemption: status shows it, and drift repair restores what the admin applied", async () => {
    await admin.post(`${lcPath(PROJECT, LC)}/apply`).expect(200);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
    const applied = await status();
    expect({ state: applied.state, policyExempt: applied.policyExempt }).toEqual({
      state: 'Instantiated',
      policyExempt: true,
    });
    const [binding] = await tenantBindings(0);
    expect(binding).toBeDefined();
    await watcher().idle();
    await rbac(0).deleteClusterRoleBinding({ name: binding! });
    await until(
      async () => (await tenantBindings(0)).includes(binding!),
      'the ClusterRoleBinding restored for the exempt logical cloud',
    );
    await watcher().idle();

    // A project caller's apply is refused by the policy as it is (403): it starts nothing and the exemption stays.
    expect((await team1.post(`${lcPath(PROJECT, LC)}/apply`)).status).toBe(403);
    expect((await status()).policyExempt).toBe(true);
  });
});
