/**
 * Who may use cluster selection, over REST and gRPC: relabelling a cluster (PUT, UpdateCluster)
 * is an admin's, as registration is; a logical cloud's selection (GET …/cluster-selection,
 * GetClusterSelection) is read by its project's callers only; a project caller's selector never
 * reaches a cluster the project policy does not admit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import { grpcError, bearer, json, startTestGrpc, struct, type GrpcResource, type TestGrpc } from '../support/grpc.js';
import { createDesignLogicalCloud, createProject, createProvider, kubeconfigText, lcPath } from '../support/rest.js';
import { design } from '../support/dcm.js';
import { until } from '../support/until.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const { status } = grpc;
const relabelBody = (labels: Record<string, string>) => ({ metadata: { name: 'cluster-1' }, spec: { labels } });

describe('cluster selection: who may do what', () => {
  let t: AuthTestDcm;
  let g: TestGrpc;

  beforeAll(async () => {
    t = await startAuthDcm('selection_access');
    g = await startTestGrpc(t);
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await createProject(admin, 'p2');
    await createDesignLogicalCloud(admin, 'p1', 'lc-1');
    for (const p of ['p1', 'p2']) await allowEverything(admin.http, p);
    for (const provider of ['provider-1', 'other']) {
      await createProvider(admin, provider);
      await admin.http
        .post(`/v2/cluster-providers/${provider}/clusters`)
        .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1), labels: { tier: 'edge' } } })
        .expect(201);
    }
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  it('lets only admins relabel a cluster, over REST and gRPC (If-Match / expected_revision honoured)', async () => {
    const path = '/v2/cluster-providers/provider-1/clusters/cluster-1';
    for (const token of [TOKENS.team1, TOKENS.tenant])
      expect(
        (
          await t
            .as(token)
            .put(path)
            .send(relabelBody({ tier: 'core' }))
        ).status,
      ).toBe(403);
    const denied = await grpcError(
      g.call(
        'UpdateCluster',
        { cluster_provider: 'provider-1', name: 'cluster-1', body: struct(relabelBody({})) },
        {},
        bearer(TOKENS.team1),
      ),
    );
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect((await t.as(TOKENS.admin).get(path).expect(200)).body.spec.labels).toEqual({ tier: 'edge' });

    const updated = await g.call<GrpcResource>(
      'UpdateCluster',
      {
        cluster_provider: 'provider-1',
        name: 'cluster-1',
        expected_revision: 1,
        body: struct(relabelBody({ tier: 'edge', zone: 'east' })),
      },
      {},
      bearer(TOKENS.admin),
    );
    expect({ revision: updated.revision, labels: (json(updated.body).spec as { labels: unknown }).labels }).toEqual({
      revision: 2,
      labels: { tier: 'edge', zone: 'east' },
    });
    const stale = await grpcError(
      g.call(
        'UpdateCluster',
        { cluster_provider: 'provider-1', name: 'cluster-1', expected_revision: 1, body: struct(relabelBody({})) },
        {},
        bearer(TOKENS.admin),
      ),
    );
    expect(stale.code).toBe(status.FAILED_PRECONDITION);
    const bad = await grpcError(
      g.call(
        'UpdateCluster',
        {
          cluster_provider: 'provider-1',
          name: 'cluster-1',
          body: struct({ metadata: { name: 'cluster-1' }, spec: { labels: { '': 'x' } } }),
        },
        {},
        bearer(TOKENS.admin),
      ),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/body\.spec\.labels/);
  });

  it("shows a logical cloud's selection to its project's callers only", async () => {
    const path = `${lcPath('p1', 'lc-1')}/cluster-selection`;
    expect((await t.as(TOKENS.team2).get(path)).status).toBe(403);
    // The tenant of p1/lc-1 reads status and kubeconfigs only.
    expect((await t.as(TOKENS.tenant).get(path)).status).toBe(403);
    expect((await t.as(TOKENS.team1).get(path)).status).toBe(200);
    const ref = { project: 'p1', logical_cloud: 'lc-1' };
    expect((await grpcError(g.call('GetClusterSelection', ref, {}, bearer(TOKENS.team2)))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const preview = await g.call<{ body: Parameters<typeof json>[0] }>(
      'GetClusterSelection',
      { ...ref, selector: JSON.stringify({ matchLabels: { tier: 'edge' } }) },
      {},
      bearer(TOKENS.team1),
    );
    expect(json(preview.body)).toMatchObject({
      saved: false,
      selected: [{ provider: 'provider-1', cluster: 'cluster-1' }],
      notSelected: [{ provider: 'other', cluster: 'cluster-1', reason: 'project policy' }],
    });
    const bad = await grpcError(
      g.call('GetClusterSelection', { ...ref, selector: '{"matchLabels": 1}' }, {}, bearer(TOKENS.team1)),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/selector\.matchLabels/);
  });

  it("never lets a project caller's selector reach a cluster its policy does not admit", async () => {
    const body = design.logicalCloud() as ReturnType<typeof design.logicalCloud> & { spec: Record<string, unknown> };
    body.metadata.name = 'lc-everywhere';
    body.spec.namespace = 'ns-everywhere';
    body.spec.clusterSelector = { providers: ['other', 'provider-1'] };
    const created = await t.as(TOKENS.team1).post('/v2/projects/p1/logical-clouds').send(body);
    expect(created.status).toBe(201);
    expect(created.body.spec.clusters).toEqual(['cluster-1']);
    const references = (
      await t
        .as(TOKENS.team1)
        .get(`${lcPath('p1', 'lc-everywhere')}/cluster-references`)
        .expect(200)
    ).body as { 'cluster-provider': string; selected: boolean }[];
    expect(references.map((r) => [r['cluster-provider'], r.selected])).toEqual([['provider-1', true]]);
    // A selected reference is not the caller's to delete.
    expect(
      (await t.as(TOKENS.team1).delete(`${lcPath('p1', 'lc-everywhere')}/cluster-references/provider-1-cluster-1`))
        .status,
    ).toBe(409);
  });
});

describe("cluster selection follows clm's label routes too, and WatchStatus streams it", () => {
  let t: AuthTestDcm;
  let g: TestGrpc;

  beforeAll(async () => {
    t = await startAuthDcm('selection_clm');
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await allowEverything(admin.http, 'p1');
    await createProvider(admin, 'provider-1');
    await admin.http
      .post('/v2/cluster-providers/provider-1/clusters')
      .send({ metadata: { name: 'cluster-1' }, spec: { kubeconfig: kubeconfigText(1) } })
      .expect(201);
    const body = design.logicalCloud() as ReturnType<typeof design.logicalCloud> & { spec: Record<string, unknown> };
    body.spec.clusterSelector = { matchExpressions: [{ key: 'edge', operator: 'Exists' }] };
    await admin.http.post('/v2/projects/p1/logical-clouds').send(body).expect(201);
    g = await startTestGrpc(t);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  it('selects a cluster when clm adds the label (WatchStatus streams it), and lets it go when clm deletes it', async () => {
    const admin = t.as(TOKENS.admin);
    const references = async () =>
      ((await admin.get(`${lcPath('p1', 'lc-1')}/cluster-references`).expect(200)).body as { name: string }[]).map(
        (r) => r.name,
      );
    expect(await references()).toEqual([]);
    await admin
      .post('/v2/cluster-providers/provider-1/clusters/cluster-1/labels')
      .send({ 'label-name': 'edge' })
      .expect(201);
    await until(async () => (await references()).join() === 'cluster-1', 'cluster-1 selected');
    await admin.delete('/v2/cluster-providers/provider-1/clusters/cluster-1/labels/edge').expect(204);
    await until(async () => (await references()).length === 0, 'cluster-1 no longer selected');
  });
});
