/**
 * Issue 17 item 2, the mesh objects: a mesh-enabled logical cloud's `cacerts` Secret deleted by
 * an admin and its Istio control-plane declaration edited are noticed and restored (the same
 * intermediate, the declared spec), on the real test cluster with the Sail Operator's Istio CRD
 * installed and the test playing the operator (it reports the Istio resource Ready; the status
 * updates it makes are nobody's drift).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { controlPlaneNamespace, meshRevision } from '../../src/controllers/object-names.js';
import { defaultConfig } from '../../src/config.js';
import { kubectl, testClusters } from '../support/backends.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import { applyAndSettle, removeLeftovers, tenantLogicalCloud } from './apply-helpers.js';
import { installSailIstioCrd, playSail } from './ca-mesh-helpers.js';

const PROJECT = 'project-drift-mesh';
const LC = 'lc-drift-mesh';
const NS = 'ns-drift-mesh';

const admin = (args: string[]) => kubectl({ path: testClusters[0].kubeconfigPath() }, args);

describe('drift of the mesh objects is repaired', () => {
  let t: TestDcm;
  let stopSail: () => void = () => undefined;
  let controlPlane = '';
  let revision = '';

  const drift = async () =>
    (
      (await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body as {
        drift: { kind: string; name: string; change: string; action: string; details: string }[];
      }
    ).drift;
  const cacerts = async () =>
    (
      await admin(['get', 'secret', 'cacerts', '-n', controlPlane, '-o', 'jsonpath={.data.ca-cert\\.pem}'])
    ).stdout.trim();
  const istioVersion = async () =>
    (await admin(['get', 'istios.sailoperator.io', revision, '-o', 'jsonpath={.spec.version}'])).stdout.trim();

  beforeAll(async () => {
    await installSailIstioCrd();
    await removeLeftovers([NS], [LC]);
    stopSail = await playSail([LC]);
    t = await startTestDcm('drift_mesh', {
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_DRIFT_DEBOUNCE_MS: 300 },
    });
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1) } })
      .expect(201);
    const body = tenantLogicalCloud(LC, NS, 'user-drift-mesh');
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send({ ...body, spec: { ...body.spec, serviceMesh: { enabled: true } } })
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    const applied = await applyAndSettle(t, PROJECT, LC);
    expect(applied.state).toBe('Instantiated');
    const lc = await t.dcm.services.logicalClouds.resolve(PROJECT, LC);
    controlPlane = controlPlaneNamespace({ logicalCloudId: lc.id });
    revision = meshRevision({ logicalCloudId: lc.id });
    await t.dcm.services.driftWatcher.start();
    await t.dcm.services.driftWatcher.idle();
  });

  afterAll(async () => {
    await t?.dcm.services.driftWatcher.stop();
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    stopSail();
    await t?.close();
  });

  it('finds nothing to repair after the apply, though the operator keeps updating the status', async () => {
    expect(await drift()).toEqual([]);
    expect(await cacerts()).not.toBe('');
  });

  it('restores a deleted cacerts Secret with the same intermediate', async () => {
    const before = await cacerts();
    expect((await admin(['delete', 'secret', 'cacerts', '-n', controlPlane])).code).toBe(0);
    await until(async () => (await cacerts()) === before, 'cacerts restored');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({
      kind: 'Secret',
      name: `${controlPlane}/cacerts`,
      change: 'deleted',
      action: 'restored',
    });
  });

  it('restores the Istio declaration someone edited', async () => {
    const declared = await istioVersion();
    expect(declared).toMatch(/^v1\./);
    expect(
      (
        await admin([
          'patch',
          'istios.sailoperator.io',
          revision,
          '--type=merge',
          '-p',
          '{"spec":{"version":"v1.0.0"}}',
        ])
      ).code,
    ).toBe(0);
    await until(async () => (await istioVersion()) === declared, 'the Istio declaration restored');
    await t.dcm.services.driftWatcher.idle();
    expect((await drift())[0]).toMatchObject({
      kind: 'Istio',
      name: revision,
      change: 'changed',
      action: 'restored',
      details: `spec.version: "v1.0.0", want "${declared}"`,
    });
  });
});
