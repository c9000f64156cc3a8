/**
 * One way to reach a cluster: the health probe (on request), an apply and a terminate all get
 * their gateway from the ClusterGatewayProvider the DCM was given, the one seam a test swaps.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClusterGatewayProvider } from '../../src/kubernetes/cluster-gateway.js';
import { KubeClusterGatewayProvider } from '../../src/kubernetes/kube-cluster-gateway.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { lcPath, setUpProjectAndClusters } from '../support/rest.js';
import {
  applyAndSettle,
  clusterEntry,
  removeLeftovers,
  tenantLogicalCloud,
  terminateAndSettle,
} from './apply-helpers.js';

const PROJECT = 'project-provider';
const LC = 'lc-provider';
const NS = 'ns-provider';

describe('the cluster gateway provider', () => {
  let t: TestDcm;
  /** The clusters a gateway was asked for, in order. */
  const asked: string[] = [];
  const real = new KubeClusterGatewayProvider(10_000);
  const counting: ClusterGatewayProvider = {
    gatewayFor: (cluster, secrets) => {
      asked.push(cluster.name);
      return real.gatewayFor(cluster, secrets);
    },
  };

  beforeAll(async () => {
    await removeLeftovers([NS], [LC]);
    t = await startTestDcm('gateway_provider', { gateways: counting });
    await setUpProjectAndClusters(t, PROJECT);
    const body = tenantLogicalCloud(LC, NS, 'user-provider');
    await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    await t.http
      .post(`${lcPath(PROJECT, LC)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
  });

  afterAll(async () => {
    const res = await t?.http.post(`${lcPath(PROJECT, LC)}/terminate`);
    if (res?.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, LC);
    await t?.close();
    await removeLeftovers([NS], [LC]);
  });

  it('gives the health probe its gateway', async () => {
    asked.length = 0;
    const res = await t.http.get('/v2/cluster-providers/provider-1/clusters/cluster-2/status?probe=true').expect(200);
    expect(res.body).toMatchObject({ cluster: 'cluster-2', health: { reachable: true, ready: true } });
    expect(asked).toEqual(['cluster-2']);
  });

  it('gives an apply and a terminate theirs', async () => {
    asked.length = 0;
    expect(clusterEntry(await applyAndSettle(t, PROJECT, LC), 'cluster-1').state).toBe('Applied');
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(['cluster-1']));
    asked.length = 0;
    await terminateAndSettle(t, PROJECT, LC);
    expect(new Set(asked)).toEqual(new Set(['cluster-1']));
  });
});
