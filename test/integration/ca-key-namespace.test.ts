/**
 * Issue 14 item 4: the tenant's roles never land (or stay) where an intermediate CA key is. An
 * admin puts a `cacerts` Secret into a logical cloud's namespace: the next apply fails that
 * cluster saying why and removes the tenant's roles there; once the key is gone, it applies again.
 * (Control-plane namespaces `istio-dcm-…` cannot be chosen at all: tenant-boundary.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  clusterEntry,
  core,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
} from './apply-helpers.js';

const PROJECT = 'project-cakey';
const LC = 'lc-cakey';
const NS = 'ns-cakey';

describe('a namespace holding a CA key', () => {
  let t: TestDcm;
  let kubeconfig: string;
  const canReadConfigMaps = async () =>
    (await kubectl({ text: kubeconfig }, ['auth', 'can-i', 'get', 'configmaps', '-n', NS])).stdout.trim();

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('ca_key_namespace');
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-cakey'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
    kubeconfig = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it("fails the cluster and takes the tenant's roles away while a cacerts Secret is there; applies again once it is gone", async () => {
    expect(await canReadConfigMaps()).toBe('yes');
    await core(0).createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'cacerts' }, stringData: { 'ca-key.pem': 'not a real key' } },
    });
    const refused = await applyAndSettle(t, PROJECT, LC);
    const entry = clusterEntry(refused, 'cluster-1');
    expect(entry.state).toBe('Failed');
    expect(entry.errors.join('\n')).toMatch(
      /holds a cacerts Secret \(an Istio CA key\): the tenant's roles are not placed \(and are removed\) there/,
    );
    expect(await canReadConfigMaps()).toBe('no');
    await core(0).deleteNamespacedSecret({ name: 'cacerts', namespace: NS });
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
    expect(await canReadConfigMaps()).toBe('yes');
  });
});
