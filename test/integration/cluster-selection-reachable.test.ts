/**
 * An unreachable cluster that a logical cloud's selector selects is selected but Pending (with the
 * health probe's reason), and is applied by itself once a probe finds it reachable again. Cluster 2
 * is reached through a TCP relay that the test cuts and restores.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { startTcpRelay, type TcpRelay } from '../support/tcp-relay.js';
import { until } from '../support/until.js';
import { namespaceExists, removeLeftovers, statusOf, tenantLogicalCloud, withServer } from './apply-helpers.js';

const PROJECT = 'project-selection-reachable';
const LC = 'lc-selection-reachable';
const NS = 'ns-selection-reachable';

describe('a selected cluster that is unreachable is Pending, and applied once it is reachable', () => {
  let t: TestDcm;
  let relay: TcpRelay;
  const probe = () => t.http.get('/v2/cluster-providers/edge/clusters/cluster-2/status?probe=true').expect(200);
  const selectionOf = async () =>
    ((await t.http.get(`${lcPath(PROJECT, LC)}/status`).expect(200)).body.clusterSelection?.selected ?? []) as {
      cluster: string;
      state: string;
      reason?: string;
    }[];

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    const server = new URL(/server: (\S+)/.exec(kubeconfigText(2))![1]!);
    relay = await startTcpRelay({ host: '127.0.0.1', port: Number(server.port) });
    t = await startTestDcm('selection-reachable', {
      config: {
        ...defaultConfig(),
        DCM_CLUSTER_TIMEOUT_MS: 10_000,
        DCM_METRICS_REFRESH_MS: 0,
        DCM_SELECTION_INTERVAL_MS: 2000,
      },
    });
    await t.dcm.services.jobs.start(['following the fleet']);
    await createProject(t, PROJECT);
    await createProvider(t, 'edge');
    await t.http
      .post('/v2/cluster-providers/edge/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1), labels: { tier: 'edge' } } })
      .expect(201);
    await t.http
      .post('/v2/cluster-providers/edge/clusters')
      .send({
        metadata: { name: 'cluster-2' },
        spec: { kubeconfig: withServer(kubeconfigText(2), `https://127.0.0.1:${relay.port}`) },
      })
      .expect(201);
    await t.http
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { clusters: { providers: ['edge'] } } })
      .expect(200);
    const body = tenantLogicalCloud(LC, NS, 'user-selection-reachable') as ReturnType<typeof tenantLogicalCloud> & {
      spec: Record<string, unknown>;
    };
    body.spec.clusterSelector = { matchLabels: { tier: 'edge' } };
    await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-quotas`)
      .send(design.quota())
      .expect(201);
    await t.http.post(`${lcPath(PROJECT, LC)}/apply`).expect(200);
    await t.dcm.services.lifecycle.settled(PROJECT, LC);
  });

  afterAll(async () => {
    await t?.dcm.services.jobs.stop();
    await relay?.restore().catch(() => undefined);
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    await relay?.cut();
    await removeLeftovers([NS], [LC]);
  });

  it('shows it Pending with the reason while unreachable, then applies it there by itself', async () => {
    await relay.cut();
    expect((await probe()).body.health.reachable).toBe(false);
    await t.http
      .put('/v2/cluster-providers/edge/clusters/cluster-2')
      .send({ metadata: { name: 'cluster-2' }, spec: { labels: { tier: 'edge' } } })
      .expect(200);
    await until(
      async () =>
        (await selectionOf()).some(
          (c) => c.cluster === 'cluster-2' && c.state === 'Pending' && /unreachable/.test(c.reason ?? ''),
        ),
      'cluster-2 selected, Pending',
    );
    await until(async () => (await statusOf(t.http, PROJECT, LC)).operation?.inProgress === false, 'the apply settled');
    expect(await namespaceExists(1, NS)).toBe(false);

    await relay.restore();
    expect((await probe()).body.health.reachable).toBe(true);
    await until(async () => {
      const status = await statusOf(t.http, PROJECT, LC);
      return status.clusters.some((c) => c['cluster-reference'] === 'cluster-2' && c.state === 'Applied');
    }, 'cluster-2 applied once reachable');
    expect(await namespaceExists(1, NS)).toBe(true);
    expect((await selectionOf()).find((c) => c.cluster === 'cluster-2')).toMatchObject({ state: 'Selected' });
  });
});
