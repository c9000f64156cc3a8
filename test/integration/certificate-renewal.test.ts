/**
 * Issue 17 item 4: tenant certificates expire and are renewed by themselves. With a 60-second
 * lifetime (test cluster 1 registered with its CA key, so the DCM signs exactly that; the CSR
 * API takes no less than 600 s), the DCM's renewal job re-issues the certificate two thirds into
 * its life without anyone asking; the kubeconfig downloaded then still works with kubectl after
 * the first certificate has expired. Status and /metrics show the expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { describeCertificate } from '../../src/certificates/certificates.js';
import { defaultConfig } from '../../src/config.js';
import { kubectl } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { caKeyText, createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { applyAndSettle, removeLeftovers, tenantKubeconfig, tenantLogicalCloud } from './apply-helpers.js';

const PROJECT = 'project-renewal';
const LC = 'lc-renewal';
const NS = 'ns-renewal';
const LIFETIME_SECONDS = 60;

/** Resolves once `condition` holds, checking every `everyMs` (a condition, not a fixed sleep). */
async function until(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  everyMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const certificateOf = (kubeconfig: string) => {
  const data = /client-certificate-data: (\S+)/.exec(kubeconfig)?.[1];
  if (!data) throw new Error('no client certificate in the kubeconfig');
  return Buffer.from(data, 'base64').toString('utf8');
};

describe('tenant certificates renew themselves', () => {
  let t: TestDcm;
  const caKey = caKeyText(1);

  beforeAll(async () => {
    if (!caKey)
      throw new Error("this test needs test cluster 1 with its CA key (the project's own test backends provide it)");
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('certificate_renewal', {
      config: {
        ...defaultConfig(),
        DCM_CLUSTER_TIMEOUT_MS: 10_000,
        DCM_CERT_VALIDITY_SECONDS: LIFETIME_SECONDS,
        DCM_CERT_RENEWAL_INTERVAL_MS: 1000,
      },
    });
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1), 'ca-key': caKey } })
      .expect(201);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-renewal'))
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
  });

  afterAll(async () => {
    await t?.dcm.services.jobs.stop();
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('re-issues the certificate two thirds into its life; the new kubeconfig works after the first certificate expired', async () => {
    expect((await applyAndSettle(t, PROJECT, LC)).state).toBe('Instantiated');
    const first = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
    const firstCertificate = describeCertificate(certificateOf(first));
    // Asked for LIFETIME_SECONDS from now (its notBefore is set back a minute against clock skew).
    expect(firstCertificate.notAfter.getTime()).toBeLessThanOrEqual(Date.now() + LIFETIME_SECONDS * 1000);
    const actualLifetime = firstCertificate.notAfter.getTime() - firstCertificate.notBefore.getTime();
    const status = (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as {
      clusters: { 'certificate-not-after': string }[];
    };
    expect(new Date(status.clusters[0]!['certificate-not-after']).getTime()).toBe(firstCertificate.notAfter.getTime());
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toContain(
      `dcm_tenant_certificate_nearest_expiry_timestamp_seconds ${firstCertificate.notAfter.getTime() / 1000}`,
    );
    expect((await kubectl({ text: first }, ['auth', 'can-i', 'list', 'configmaps', '-n', NS])).stdout.trim()).toBe(
      'yes',
    );

    // Nobody asks: the DCM's own job notices the certificate is due and applies again.
    await t.dcm.services.jobs.start(['looking for certificates to renew']);
    let second = first;
    await until(
      async () => {
        second = await tenantKubeconfig(t.http, PROJECT, LC, 'cluster-1');
        return describeCertificate(certificateOf(second)).serialNumber !== firstCertificate.serialNumber;
      },
      'a renewed certificate',
      LIFETIME_SECONDS * 1000,
    );
    const renewed = describeCertificate(certificateOf(second));
    // Not before two thirds of the first one's actual lifetime (the renewed one is set back by the same minute).
    expect(renewed.notBefore.getTime() + 60_000).toBeGreaterThanOrEqual(
      firstCertificate.notBefore.getTime() + (actualLifetime * 2) / 3 - 1000,
    );
    expect(renewed.notAfter.getTime()).toBeGreaterThan(firstCertificate.notAfter.getTime());

    await until(
      async () => (await kubectl({ text: first }, ['auth', 'can-i', 'list', 'configmaps', '-n', NS])).code !== 0,
      'the first certificate to expire',
      LIFETIME_SECONDS * 1000,
    );
    expect((await kubectl({ text: first }, ['get', 'configmaps', '-n', NS])).stderr).toMatch(
      /Unauthorized|must be logged in/i,
    );
    expect((await kubectl({ text: second }, ['auth', 'can-i', 'list', 'configmaps', '-n', NS])).stdout.trim()).toBe(
      'yes',
    );
  });
});
