/**
 * Issue 14 item 5: the DCM approves only its own CSRs. Between the DCM's create and its
 * approval, someone with CSR rights on the cluster replaces the request under the same name with
 * one for another tenant's group (Kubernetes itself refuses `system:masters` for this signer). The DCM denies
 * it, reports the cluster Failed, stores no certificate, and the next apply (unhindered) works.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createCsr, generatePrivateKey } from '../../src/certificates/certificates.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  certificatesApi,
  clusterEntry,
  removeLeftovers,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-csr';
const LC = 'lc-csr';
const NS = 'ns-csr';

describe('CSR approval', () => {
  let t: TestDcm;
  let swap = true;
  const swapped: string[] = [];

  /** The attacker: deletes the DCM's CSR and creates its own under the same name. */
  const replace = async (name: string) => {
    if (!swap) return;
    const api = certificatesApi(0);
    await api.deleteCertificateSigningRequest({ name });
    const key = await generatePrivateKey(2048);
    const request = createCsr({
      privateKeyPem: key,
      commonName: 'mallory',
      organization: 'dcm:lc:another-tenant:000000000000',
    });
    await api.createCertificateSigningRequest({
      body: {
        metadata: { name },
        spec: {
          request: Buffer.from(request).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['client auth'],
        },
      },
    });
    swapped.push(name);
  };

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('csr_approval', { beforeCsrApproval: replace });
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-csr'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
  });

  afterAll(async () => {
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    for (const name of swapped)
      await certificatesApi(0)
        .deleteCertificateSigningRequest({ name })
        .catch(() => undefined);
    await t?.close();
  });

  it('denies a CSR swapped in under its name and reports the cluster Failed; no certificate is stored', async () => {
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(swapped).toHaveLength(1);
    const entry = clusterEntry(status, 'cluster-1');
    expect(entry['user-certificate-status']).toBe('Failed');
    expect(entry.errors.join('\n')).toMatch(
      /is not the one the DCM submitted \(another object under the same name\): denied, not approved/,
    );
    const csr = await certificatesApi(0).readCertificateSigningRequest({ name: swapped[0]! });
    expect(csr.status?.certificate).toBeUndefined();
    expect(csr.status?.conditions?.map((c) => c.type)).toEqual(['Denied']);
    expect(
      (await t.dcm.stores.credentials.get((await t.dcm.services.logicalClouds.resolve(PROJECT, LC)).id))?.certificates,
    ).toEqual([]);
    expect((await t.http.get(`${lcPath(PROJECT, LC)}/kubeconfig`)).status).toBe(409);
  });

  it('an unhindered apply gets its own certificate', async () => {
    swap = false;
    await certificatesApi(0).deleteCertificateSigningRequest({ name: swapped[0]! });
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(status.state).toBe('Instantiated');
    expect((await t.http.get(`${lcPath(PROJECT, LC)}/kubeconfig`)).status).toBe(200);
    expect((await terminateAndSettle(t, PROJECT, LC)).state).toBe('Terminated');
  });
});
