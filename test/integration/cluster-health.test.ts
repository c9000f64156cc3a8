/**
 * Issue 17 item 3: every registered cluster is probed (reachability, /readyz, server version);
 * REST and gRPC show a cluster's health, a logical cloud's status shows its clusters' health, and
 * an apply to a cluster known unreachable fails at once with that reason instead of waiting for
 * the cluster timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { json, startTestGrpc, type TestGrpc } from '../support/grpc.js';
import { createProject, createProvider, kubeconfigText, lcPath, registerCluster } from '../support/rest.js';
import {
  applyAndSettle,
  clusterEntry,
  closedPort,
  removeLeftovers,
  tenantLogicalCloud,
  withServer,
} from './apply-helpers.js';

const PROJECT = 'project-health';
const LC = 'lc-health';
const NS = 'ns-health';

describe('cluster health', () => {
  let t: TestDcm;
  let g: TestGrpc;

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    // A cluster timeout far longer than the test's own: a failure in time cannot come from it.
    t = await startTestDcm('cluster_health', { config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 120_000 } });
    g = await startTestGrpc(t);
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
    const down = withServer(kubeconfigText(1), `https://127.0.0.1:${await closedPort()}`);
    await t.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-down' }, spec: { kubeconfig: down } })
      .expect(201);
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(tenantLogicalCloud(LC, NS, 'user-health'))
      .expect(201);
    for (const c of ['cluster-1', 'cluster-down'])
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c })
        .expect(201);
  });

  afterAll(async () => {
    await g?.close();
    const res = await t.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
  });

  it('has no health before the first probe; the prober finds one cluster ready and one unreachable', async () => {
    const before = await t.http.get('/v2/cluster-providers/provider-1/clusters/cluster-1/status').expect(200);
    expect(before.body).toEqual({ 'cluster-provider': 'provider-1', cluster: 'cluster-1', health: null });
    await t.dcm.services.clusterHealthProber.probeAll();
    const up = (await t.http.get('/v2/cluster-providers/provider-1/clusters/cluster-1/status').expect(200)).body as {
      health: Record<string, unknown>;
    };
    expect(up.health).toMatchObject({
      reachable: true,
      ready: true,
      version: expect.stringMatching(/^v1\.\d+\.\d+/),
      message: null,
    });
    const down = (await t.http.get('/v2/cluster-providers/provider-1/clusters/cluster-down/status').expect(200))
      .body as { health: Record<string, unknown> };
    expect(down.health).toMatchObject({
      reachable: false,
      ready: false,
      message: expect.stringMatching(/ECONNREFUSED|connect/),
    });
    expect((await t.http.get('/v2/cluster-providers/provider-1/clusters/nothing/status')).status).toBe(404);
    expect((await t.http.get('/v2/cluster-providers/provider-1/clusters/cluster-1/status?probe=maybe')).status).toBe(
      400,
    );
  });

  it('gRPC GetClusterStatus answers the same, and probes on request', async () => {
    const answer = await g.call<{ body: Parameters<typeof json>[0] }>('GetClusterStatus', {
      cluster_provider: 'provider-1',
      cluster: 'cluster-1',
      probe: true,
    });
    expect(json(answer.body)).toMatchObject({
      'cluster-provider': 'provider-1',
      cluster: 'cluster-1',
      health: { reachable: true, ready: true },
    });
  });

  it('an apply fails the unreachable cluster at once with the reason; the logical cloud status shows both clusters’ health', async () => {
    const status = await applyAndSettle(t, PROJECT, LC);
    expect(clusterEntry(status, 'cluster-1').state).toBe('Applied');
    const down = clusterEntry(status, 'cluster-down');
    expect(down.state).toBe('Failed');
    expect(down.errors.join('\n')).toMatch(/cluster cluster-down is unreachable \(probed .*\); not tried/);
    const health = (
      status as unknown as {
        clusters: { 'cluster-reference': string; 'cluster-health': { reachable: boolean } | null }[];
      }
    ).clusters.map((c) => [c['cluster-reference'], c['cluster-health']?.reachable]);
    expect(health).toEqual([
      ['cluster-1', true],
      ['cluster-down', false],
    ]);
  });
});
