/**
 * Issue 15 item 2: the EMCO dialect as its clients drive it, on the real clusters: instantiate,
 * update, terminate and stop with no body, `{}` or emcoctl's `{"metadata":{"name":""}}`; 2xx on
 * success, 4xx (never 5xx) for "not ready yet"; stop during an instantiate; level "0".
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/config.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { lcPath, setUpProjectAndClusters } from '../support/rest.js';
import { removeLeftovers, statusOf } from './apply-helpers.js';

const PROJECT = 'project-emco';
const LC = 'lc-emco';
const NS = 'ns-emco';
const EMCOCTL_BODY = { metadata: { name: '' } };

describe('the EMCO dialect', () => {
  let t: TestDcm;
  let stopOnFirstCluster = false;
  const stopAnswers: number[] = [];

  const post = (path: string, body?: unknown) => {
    const req = t.http.post(`${lcPath(PROJECT, LC)}/${path}`);
    return body === undefined ? req : req.send(body as object);
  };
  const settle = () => t.dcm.services.lifecycle.settled(PROJECT, LC);

  beforeAll(async () => {
    await removeLeftovers([NS], [LC, 'lc-admin']);
    t = await startTestDcm('emco_dialect', {
      // One cluster at a time, so that a stop asked during the first keeps the second from starting.
      config: { ...defaultConfig(), DCM_CLUSTER_TIMEOUT_MS: 10_000, DCM_APPLY_CONCURRENCY: 1 },
      beforeCsrApproval: async () => {
        if (!stopOnFirstCluster) return;
        stopOnFirstCluster = false;
        stopAnswers.push((await post('stop', EMCOCTL_BODY)).status);
      },
    });
    await setUpProjectAndClusters(t, PROJECT);
    const body = design.logicalCloud();
    body.metadata.name = LC;
    body.spec.namespace = NS;
    await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(body).expect(201);
    for (const c of ['cluster-1', 'cluster-2'])
      await t.http
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name: c })
        .expect(201);
  });

  afterAll(async () => {
    const res = await post('terminate');
    if (res.status === 202) await settle();
    await t?.close();
  });

  it('answers 4xx, never 5xx, before anything is ready: kubeconfig, stop and terminate', async () => {
    expect((await t.http.get(`${lcPath(PROJECT, LC)}/cluster-references/cluster-1/kubeconfig`)).status).toBe(409);
    expect((await post('stop', EMCOCTL_BODY)).status).toBe(409);
    expect((await post('terminate', {})).status).toBe(409);
  });

  it("instantiate with emcoctl's body, stopped during the first cluster: the second is never reached", async () => {
    stopOnFirstCluster = true;
    expect((await post('instantiate', EMCOCTL_BODY)).status).toBe(202);
    await settle();
    expect(stopAnswers).toEqual([200]);
    const status = (await statusOf(t.http, PROJECT, LC)) as unknown as {
      state: string;
      operation: { stopped?: boolean; inProgress: boolean };
      clusters: { 'cluster-reference': string; state: string; errors: string[] }[];
    };
    expect(status.state).toBe('InstantiateFailed');
    expect(status.operation).toMatchObject({ stopped: true, inProgress: false });
    expect(status.clusters.map((c) => [c['cluster-reference'], c.state])).toEqual([
      ['cluster-1', 'Applied'],
      ['cluster-2', 'Failed'],
    ]);
    expect(status.clusters[1]!.errors.join()).toMatch(/stopped before it reached this cluster/);
    expect((await t.http.get(`${lcPath(PROJECT, LC)}/cluster-references/cluster-1/kubeconfig`)).status).toBe(200);
    expect((await t.http.get(`${lcPath(PROJECT, LC)}/cluster-references/cluster-2/kubeconfig`)).status).toBe(409);
  });

  it('update with {} reaches every cluster; terminate with no body removes everything', async () => {
    expect((await post('update', {})).status).toBe(202);
    await settle();
    expect((await statusOf(t.http, PROJECT, LC)).state).toBe('Instantiated');
    expect((await post('terminate')).status).toBe(202);
    await settle();
    expect((await statusOf(t.http, PROJECT, LC)).state).toBe('Terminated');
  });

  it('a level "0" logical cloud instantiates (nothing is created) and has no kubeconfig (409)', async () => {
    await t.http
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send({ metadata: { name: 'lc-admin' }, spec: { level: '0' } })
      .expect(201);
    await t.http
      .post(`${lcPath(PROJECT, 'lc-admin')}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    expect((await t.http.post(`${lcPath(PROJECT, 'lc-admin')}/instantiate`).send(EMCOCTL_BODY)).status).toBe(202);
    await t.dcm.services.lifecycle.settled(PROJECT, 'lc-admin');
    expect((await statusOf(t.http, PROJECT, 'lc-admin')).state).toBe('Instantiated');
    expect((await t.http.get(`${lcPath(PROJECT, 'lc-admin')}/kubeconfig`)).status).toBe(409);
    expect((await t.http.post(`${lcPath(PROJECT, 'lc-admin')}/terminate`).send(EMCOCTL_BODY)).status).toBe(202);
    await t.dcm.services.lifecycle.settled(PROJECT, 'lc-admin');
  });
});
