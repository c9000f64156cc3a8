/**
 * Local signing (issue 4, point 2, user controller): a cluster registered with its CA key
 * (`spec.ca-key`) gets the tenant's certificate signed by the DCM itself, with no
 * CertificateSigningRequest on the cluster, and the kubeconfig works there. A cluster
 * registered anew with another CA gets a new certificate, which the kubeconfig then carries.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Watch, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { describeCertificate, verifyIssuedBy } from '../../src/certificates/certificates.js';
import { defaultConfig } from '../../src/config.js';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { caKeyText, createProject, createProvider, kubeconfigText, lcPath, registerCluster } from '../support/rest.js';
import {
  admin,
  applyAndSettle,
  clusterEntry,
  namespaceExists,
  removeLeftovers,
  tenantKubeconfig,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-signing';
const PROVIDER = 'provider-signing';
const NAMESPACES = ['ns-sign-1', 'ns-sign-2'];
const LOGICAL_CLOUDS = ['lc-sign', 'lc-sign-control'];
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** The CA certificate (PEM) a kubeconfig trusts. */
const caOf = (kubeconfig: string): string =>
  Buffer.from(
    (yaml.load(kubeconfig) as { clusters: { cluster: { 'certificate-authority-data': string } }[] }).clusters[0]!
      .cluster['certificate-authority-data'],
    'base64',
  ).toString('utf8');
const clientCertificateOf = (kubeconfig: string): string =>
  Buffer.from(
    (yaml.load(kubeconfig) as { users: { user: { 'client-certificate-data': string } }[] }).users[0]!.user[
      'client-certificate-data'
    ],
    'base64',
  ).toString('utf8');

describe('tenant certificates signed by the DCM with a registered cluster CA key', () => {
  let t: TestDcm;
  const caKey1 = caKeyText(1);
  const caKey2 = caKeyText(2);
  const lc = (name: string) => lcPath(PROJECT, name);
  const registration = (index: 1 | 2, caKey: string | undefined) => ({
    metadata: { name: 'cluster-1-ca' },
    spec: { kubeconfig: kubeconfigText(index), 'ca-key': caKey },
  });

  /** Every CertificateSigningRequest the DCM creates on test cluster 1 while the watch runs, by logical cloud. */
  const seen: { logicalCloud: string; name: string }[] = [];
  let controlSeen: () => void = () => undefined;
  const controlCsr = new Promise<void>((resolve) => (controlSeen = resolve));
  let watch: AbortController | undefined;

  beforeAll(async () => {
    // The test backends always have the CA keys; other clusters (e.g. kind) must provide them too.
    if (!caKey1 || !caKey2)
      throw new Error('DCM_TEST_CLUSTER_1_CA_KEY and DCM_TEST_CLUSTER_2_CA_KEY must name the test clusters’ CA keys');
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
    t = await startTestDcm('apply_signing');
    await createProject(t, PROJECT);
    await createProvider(t, PROVIDER);
    await t.http.post(`/v2/cluster-providers/${PROVIDER}/clusters`).send(registration(1, caKey1)).expect(201);
    // The same test cluster 1 without its CA key: the control, signed by the cluster.
    await registerCluster(t, PROVIDER, 'cluster-1', 1);
    const registered = await t.http.get(`/v2/cluster-providers/${PROVIDER}/clusters/cluster-1-ca`).expect(200);
    expect(registered.body.spec['has-ca-key']).toBe(true);

    // Started at resourceVersion 0 the watch replays the CSRs there are, then every change, in order.
    watch = await new Watch(admin(0)).watch(
      CSR_PATH,
      { resourceVersion: '0' },
      (phase: string, csr: V1CertificateSigningRequest) => {
        const logicalCloud = csr.metadata?.labels?.['dcm.onap.org/logical-cloud'];
        if (phase !== 'ADDED' || !logicalCloud || !LOGICAL_CLOUDS.includes(logicalCloud)) return;
        seen.push({ logicalCloud, name: csr.metadata!.name! });
        if (logicalCloud === 'lc-sign-control') controlSeen();
      },
      () => undefined,
    );
  });

  afterAll(async () => {
    watch?.abort();
    await t?.close();
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
  });

  it('applies with a certificate the DCM signed: Created, and no CertificateSigningRequest on the cluster', async () => {
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud('lc-sign', 'ns-sign-1', 'user-sign'))
      .expect(201);
    await t.http
      .post(`${lc('lc-sign')}/cluster-references`)
      .send({ name: 'cluster-1-ca' })
      .expect(201);
    const s = await applyAndSettle(t, PROJECT, 'lc-sign');
    expect(s.status).toBe('Created');
    expect(clusterEntry(s, 'cluster-1-ca')).toMatchObject({
      state: 'Applied',
      'user-certificate-status': 'Created',
      errors: [],
    });

    // The control, on the same cluster without the CA key, goes through the CSR API: once the
    // watch has shown its CSR, it has shown any CSR created before it.
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud('lc-sign-control', 'ns-sign-2', 'user-sign-2'))
      .expect(201);
    await t.http
      .post(`${lc('lc-sign-control')}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    expect((await applyAndSettle(t, PROJECT, 'lc-sign-control')).status).toBe('Created');
    await controlCsr;
    expect(seen.map((csr) => csr.logicalCloud)).toEqual(['lc-sign-control']);

    const stored = async (name: string) =>
      (await t.dcm.stores.credentials.get((await t.dcm.services.logicalClouds.resolve(PROJECT, name)).id))
        ?.certificates;
    expect((await stored('lc-sign'))?.map((c) => ({ reference: c.reference, signedBy: c.signedBy }))).toEqual([
      { reference: 'cluster-1-ca', signedBy: 'dcm-with-cluster-ca' },
    ]);
    expect((await stored('lc-sign-control'))?.map((c) => ({ reference: c.reference, signedBy: c.signedBy }))).toEqual([
      { reference: 'cluster-1', signedBy: 'cluster' },
    ]);
  });

  it("hands out a kubeconfig whose certificate the cluster's CA issued, and which works there", async () => {
    const kubeconfig = await tenantKubeconfig(t.http, PROJECT, 'lc-sign', 'cluster-1-ca');
    const certificate = clientCertificateOf(kubeconfig);
    expect(verifyIssuedBy(certificate, caOf(kubeconfigText(1)))).toBe(true);
    expect(verifyIssuedBy(certificate, caOf(kubeconfigText(2)))).toBe(false);
    const { subject, notBefore, notAfter } = describeCertificate(certificate);
    expect(subject).toEqual({
      commonName: `dcm:${PROJECT}:lc-sign:user-sign`,
      organization: [expect.stringMatching(/^dcm:lc:[0-9a-f-]{36}:[0-9a-f]{12}$/)],
    });
    // The DCM's configured validity (its default), not a signer's choice; notBefore is set back a minute.
    expect((notAfter.getTime() - notBefore.getTime()) / 1000).toBe(defaultConfig().DCM_CERT_VALIDITY_SECONDS + 60);

    const k = { text: kubeconfig };
    const whoami = await kubectl(k, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout).status.userInfo).toMatchObject({
      username: `dcm:${PROJECT}:lc-sign:user-sign`,
      groups: expect.arrayContaining([expect.stringMatching(/^dcm:lc:[0-9a-f-]{36}:[0-9a-f]{12}$/)]),
    });
    expect((await kubectl(k, ['auth', 'can-i', 'create', 'configmaps'])).stdout.trim()).toBe('yes');
    expect((await kubectl(k, ['auth', 'can-i', 'create', 'configmaps', '-n', 'ns-sign-2'])).stdout.trim()).toBe('no');
  });

  it('applying again reuses the certificate', async () => {
    const before = await tenantKubeconfig(t.http, PROJECT, 'lc-sign', 'cluster-1-ca');
    const s = await applyAndSettle(t, PROJECT, 'lc-sign');
    expect(s.status).toBe('Created');
    expect(clusterEntry(s, 'cluster-1-ca').resources.find((r) => r.category === 'user-certificate')).toMatchObject({
      status: 'Created',
      message: 'valid certificate reused',
    });
    expect(await tenantKubeconfig(t.http, PROJECT, 'lc-sign', 'cluster-1-ca')).toBe(before);
  });

  it('a cluster registered anew with another CA: the next apply signs a new certificate, and the kubeconfig carries it', async () => {
    expect((await terminateAndSettle(t, PROJECT, 'lc-sign')).status).toBe('Terminated');
    expect(await namespaceExists(0, 'ns-sign-1')).toBe(false);
    await t.http
      .put(`/v2/cluster-providers/${PROVIDER}/clusters/cluster-1-ca`)
      .send(registration(2, caKey2))
      .expect(200);

    expect((await applyAndSettle(t, PROJECT, 'lc-sign')).status).toBe('Created');
    expect(await namespaceExists(1, 'ns-sign-1')).toBe(true);
    const kubeconfig = await tenantKubeconfig(t.http, PROJECT, 'lc-sign', 'cluster-1-ca');
    expect(verifyIssuedBy(clientCertificateOf(kubeconfig), caOf(kubeconfigText(2)))).toBe(true);
    const whoami = await kubectl({ text: kubeconfig }, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.stderr).toBe('');
    expect(JSON.parse(whoami.stdout).status.userInfo.username).toBe(`dcm:${PROJECT}:lc-sign:user-sign`);
    const certificates = (
      await t.dcm.stores.credentials.get((await t.dcm.services.logicalClouds.resolve(PROJECT, 'lc-sign')).id)
    )?.certificates;
    expect(certificates?.map((c) => c.reference)).toEqual(['cluster-1-ca']);
  });

  it('terminates both logical clouds: nothing left on the clusters', async () => {
    for (const name of LOGICAL_CLOUDS) {
      expect((await terminateAndSettle(t, PROJECT, name)).status).toBe('Terminated');
      await t.http.delete(lc(name)).expect(204);
    }
    for (const i of [0, 1] as const) for (const ns of NAMESPACES) expect(await namespaceExists(i, ns)).toBe(false);
  });
});
