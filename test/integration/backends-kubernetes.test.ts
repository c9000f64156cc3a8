/**
 * The Kubernetes test clusters are real: namespaces are finalized by the namespace
 * controller, CSRs are signed with the cluster's own CA, and the apiserver authenticates
 * the resulting certificate while RBAC denies it everything until a binding exists.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  CertificatesV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { buildKubeconfig, kubeconfigToYaml } from '../../src/kubeconfig/kubeconfig.js';
import { parseAdminKubeconfig } from '../../src/kubeconfig/registered-kubeconfig.js';
import { createCsr, generatePrivateKey, verifyIssuedBy } from '../../src/certificates/certificates.js';
import { waitForObject } from '../../src/kubernetes/wait-for-object.js';
import { adminKubeConfig, kubectl, testClusters } from '../support/backends.js';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

describe.each(testClusters)('Kubernetes test backend $name', (cluster) => {
  const kc = () => adminKubeConfig(cluster.kubeconfigPath());

  it('creates a namespace and the namespace controller finalizes its deletion', async () => {
    const core = kc().makeApiClient(CoreV1Api);
    const name = `smoke-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'cm' }, data: { a: 'b' } } });
    expect((await core.readNamespace({ name })).status?.phase).toBe('Active');

    await core.deleteNamespace({ name });
    const exists = () =>
      core.readNamespace({ name }).then(
        () => true,
        (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
      );
    await waitForObject({
      kubeConfig: kc(),
      collectionPath: '/api/v1/namespaces',
      name,
      condition: () => false,
      timeoutMs: 60_000,
      untilDeleted: { exists },
    });
    expect(await exists()).toBe(false);
  });

  it('signs an approved CSR with the cluster CA; the certificate authenticates but RBAC denies it', async () => {
    const kubeConfig = kc();
    const certificates = kubeConfig.makeApiClient(CertificatesV1Api);
    const user = `smoke-user-${randomUUID().slice(0, 8)}`;
    const key = await generatePrivateKey(2048);
    const csrPem = createCsr({ privateKeyPem: key, commonName: user, organization: 'smoke-tests' });
    const name = `${user}-csr`;
    await certificates.createCertificateSigningRequest({
      body: {
        metadata: { name },
        spec: {
          request: Buffer.from(csrPem).toString('base64'),
          signerName: 'kubernetes.io/kube-apiserver-client',
          usages: ['digital signature', 'key encipherment', 'client auth'],
          expirationSeconds: 3600,
        },
      },
    });
    const csr = await certificates.readCertificateSigningRequest({ name });
    csr.status = {
      conditions: [{ type: 'Approved', status: 'True', reason: 'SmokeTest', message: 'approved by the test' }],
    };
    await certificates.replaceCertificateSigningRequestApproval({ name, body: csr });

    const signed = await waitForObject<V1CertificateSigningRequest>({
      kubeConfig,
      collectionPath: CSR_PATH,
      name,
      condition: (object) => Boolean(object.status?.certificate),
      timeoutMs: 60_000,
    });
    const certPem = Buffer.from(signed!.status!.certificate!, 'base64').toString();
    const admin = parseAdminKubeconfig(fs.readFileSync(cluster.kubeconfigPath(), 'utf8'));
    const caPem = Buffer.from(admin.certificateAuthorityData!, 'base64').toString();
    expect(verifyIssuedBy(certPem, caPem)).toBe(true);

    const tenant = kubeconfigToYaml(
      buildKubeconfig([
        {
          clusterName: cluster.name,
          server: admin.server,
          certificateAuthorityData: admin.certificateAuthorityData,
          userName: user,
          clientCertificatePem: certPem,
          clientKeyPem: key,
          namespace: 'default',
        },
      ]),
    );
    const whoami = await kubectl({ text: tenant }, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.stderr).toBe('');
    const status = JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(status.status.userInfo.username).toBe(user);
    expect(status.status.userInfo.groups).toContain('smoke-tests');

    const before = await kubectl({ text: tenant }, ['auth', 'can-i', 'list', 'configmaps', '-n', 'default']);
    expect(before.stdout.trim()).toBe('no');
    const denied = await kubectl({ text: tenant }, ['get', 'configmaps', '-n', 'default']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);

    // With a binding the same certificate is allowed: RBAC, not authentication, said no.
    const rbac = kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    const binding = `${user}-view`;
    await rbac.createNamespacedRoleBinding({
      namespace: 'default',
      body: {
        metadata: { name: binding },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    });
    try {
      const after = await kubectl({ text: tenant }, ['auth', 'can-i', 'list', 'configmaps', '-n', 'default']);
      expect(after.stdout.trim()).toBe('yes');
    } finally {
      await rbac.deleteNamespacedRoleBinding({ name: binding, namespace: 'default' });
      await certificates.deleteCertificateSigningRequest({ name });
    }
  });
});
