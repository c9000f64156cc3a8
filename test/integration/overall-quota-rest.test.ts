/**
 * Overall quotas over REST and gRPC with authentication: every bad body is a 400 naming the
 * field (never a 500), a project caller stays within the policy's `maxOverall` (an admin is not
 * bound), a tenant cannot write (or read) the budget, and gRPC serves the same resource.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { bearer, grpcError, json, startTestGrpc, struct, type GrpcResource, type TestGrpc } from '../support/grpc.js';
import { expectError, expectNoStackTrace, kubeconfigText, lcPath } from '../support/rest.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const PROJECT = 'p1';
const LC = 'lc-1';
const BUDGETS = `${lcPath(PROJECT, LC)}/overall-quotas`;

const body = (name: string, spec: Record<string, unknown>) => ({ metadata: { name }, spec });

describe('overall quotas: validation, policy and access', () => {
  let t: AuthTestDcm;
  let g: TestGrpc;
  const admin = () => t.as(TOKENS.admin);

  beforeAll(async () => {
    t = await startAuthDcm('oqrest');
    g = await startTestGrpc(t);
    await admin()
      .post('/v2/projects')
      .send({ metadata: { name: PROJECT } })
      .expect(201);
    await allowEverything(admin(), PROJECT);
    const policy = (await admin().get(`/v2/projects/${PROJECT}/policy`).expect(200)).body as { spec: object };
    await admin()
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { ...policy.spec, maxOverall: { pods: '10', cpu: '8' } } })
      .expect(200);
    await admin()
      .post('/v2/cluster-providers')
      .send({ metadata: { name: 'provider-1' } })
      .expect(201);
    for (const i of [1, 2] as const)
      await admin()
        .post('/v2/cluster-providers/provider-1/clusters')
        .send({ metadata: { name: `cluster-${i}` }, spec: { kubeconfig: kubeconfigText(i) } })
        .expect(201);
    await admin()
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send({
        metadata: { name: LC },
        spec: { namespace: 'oqrest-ns', user: { 'user-name': 'u', type: 'certificate' } },
      })
      .expect(201);
    for (const name of ['cluster-1', 'cluster-2'])
      await admin()
        .post(`${lcPath(PROJECT, LC)}/cluster-references`)
        .send({ name })
        .expect(201);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  it.each([
    [
      'static shares over hard',
      {
        hard: { pods: '5' },
        assignment: 'static',
        static: [
          { 'cluster-reference': 'cluster-1', hard: { pods: '4' } },
          { 'cluster-reference': 'cluster-2', hard: { pods: '2' } },
        ],
      },
      /spec\.static\.pods: the shares of pods add up to 6, more than hard \(5\)/,
    ],
    [
      'reserve × clusters over hard',
      { hard: { pods: '3' }, reserve: { pods: '2' } },
      /spec\.reserve\.pods: 2 on each of 2 clusters is more than hard \(3\)/,
    ],
    [
      'a reserve key not in hard',
      { hard: { pods: '3' }, reserve: { cpu: '1' } },
      /spec\.reserve\.cpu: "cpu" is not a key of hard/,
    ],
    [
      'shares without static assignment',
      { hard: { pods: '3' }, static: [] },
      /spec\.static: static shares need "assignment": "static"/,
    ],
    [
      'static assignment without shares',
      { hard: { pods: '3' }, assignment: 'static' },
      /spec\.static: static assignment lists/,
    ],
    [
      'reserve with static assignment',
      { hard: { pods: '3' }, assignment: 'static', static: [], reserve: { pods: '1' } },
      /spec\.reserve: reserve is for dynamic/,
    ],
    [
      'a share key not in hard',
      { hard: { pods: '3' }, assignment: 'static', static: [{ 'cluster-reference': 'cluster-1', hard: { cpu: '1' } }] },
      /spec\.static\.0\.hard\.cpu: "cpu" is not a key of hard/,
    ],
    [
      'two shares of one reference',
      {
        hard: { pods: '3' },
        assignment: 'static',
        static: [
          { 'cluster-reference': 'cluster-1', hard: { pods: '1' } },
          { 'cluster-reference': 'cluster-1', hard: { pods: '1' } },
        ],
      },
      /cluster-1 has two shares/,
    ],
    [
      'a value that is no quantity',
      { hard: { pods: 'lots' } },
      /spec\.hard\.pods: "lots" is not a Kubernetes quantity/,
    ],
    [
      'an unknown assignment',
      { hard: { pods: '3' }, assignment: 'fair' },
      /spec\.assignment: assignment is "dynamic" or "static"/,
    ],
    ['a fraction of pods', { hard: { pods: '1.5' } }, /spec\.hard\.pods: "1\.5" must be a whole number/],
  ])('refuses %s with a 400 naming the field', async (_what, spec, message) => {
    const res = await admin().post(BUDGETS).send(body('bad', spec));
    expectError(res, 400, message);
    expectNoStackTrace(res);
  });

  it('a project caller stays within maxOverall (short keys count as their requests. form); an admin is not bound', async () => {
    const team = t.as(TOKENS.team1);
    const over = await team.post(BUDGETS).send(body('team', { hard: { pods: '11', 'requests.cpu': '9' } }));
    expectError(over, 400, /spec\.hard\.pods: more than the project policy allows \(maxOverall pods: 10\)/);
    expect(over.body.message).toMatch(/spec\.hard\.requests\.cpu: more than the project policy allows/);
    await team
      .post(BUDGETS)
      .send(body('team', { hard: { pods: '10', 'requests.cpu': '8' } }))
      .expect(201);
    const raise = await team.put(`${BUDGETS}/team`).send({ spec: { hard: { pods: '20' } } });
    expectError(raise, 400, /maxOverall pods: 10/);
    await admin()
      .post(BUDGETS)
      .send(body('big', { hard: { pods: '100' } }))
      .expect(201);
    const policy = (await admin().get(`/v2/projects/${PROJECT}/policy`).expect(200)).body as {
      spec: { maxOverall: object };
    };
    expect(policy.spec.maxOverall).toEqual({ pods: '10', cpu: '8' });
  });

  it("a project caller's apply is refused while a budget exceeds maxOverall as narrowed since (403 naming it), and nothing starts", async () => {
    const team = t.as(TOKENS.team1);
    const lc = 'lc-narrowed';
    await admin()
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send({
        metadata: { name: lc },
        spec: {
          namespace: 'oqrest-narrowed',
          user: {
            'user-name': 'u',
            type: 'certificate',
            'user-permissions': [{ 'permission-name': 'pods', apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
          },
        },
      })
      .expect(201);
    await admin()
      .post(`${lcPath(PROJECT, lc)}/cluster-references`)
      .send({ name: 'cluster-1' })
      .expect(201);
    await team
      .post(`${lcPath(PROJECT, lc)}/overall-quotas`)
      .send(body('team', { hard: { pods: '8' } }))
      .expect(201);
    const policy = (await admin().get(`/v2/projects/${PROJECT}/policy`).expect(200)).body as { spec: object };
    await admin()
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { ...policy.spec, maxOverall: { pods: '5', cpu: '8' } } })
      .expect(200);
    try {
      const refused = await team.post(`${lcPath(PROJECT, lc)}/apply`).send({});
      expectError(refused, 403, /overall quota team: pods more than the project policy allows \(maxOverall pods: 5\)/);
      const status = await admin()
        .get(`${lcPath(PROJECT, lc)}/status`)
        .expect(200);
      expect(status.body.operation).toBeNull();
    } finally {
      await admin().put(`/v2/projects/${PROJECT}/policy`).send({ spec: policy.spec }).expect(200);
    }
  });

  it('a tenant (logical cloud caller) can neither write nor read budgets', async () => {
    const tenant = t.as(TOKENS.tenant);
    expect((await tenant.post(BUDGETS).send(body('mine', { hard: { pods: '1000' } }))).status).toBe(403);
    expect((await tenant.put(`${BUDGETS}/team`).send({ spec: { hard: { pods: '1000' } } })).status).toBe(403);
    expect((await tenant.get(BUDGETS)).status).toBe(403);
    const other = t.as(TOKENS.team2);
    expect([403, 404]).toContain((await other.post(BUDGETS).send(body('x', { hard: { pods: '1' } }))).status);
  });

  it('REST: get, list, update (revision), delete; the view gives assignment and reserve back', async () => {
    await admin()
      .post(BUDGETS)
      .send(body('total', { hard: { pods: '40', 'requests.memory': '1.5Gi' }, reserve: { pods: '2' } }))
      .expect(201);
    const got = await admin().get(`${BUDGETS}/total`).expect(200);
    expect(got.body).toMatchObject({
      metadata: { name: 'total' },
      spec: { hard: { pods: '40', 'requests.memory': '1.5Gi' }, assignment: 'dynamic', reserve: { pods: '2' } },
    });
    const list = await admin().get(BUDGETS).expect(200);
    expect(JSON.stringify(list.body)).toContain('"total"');
    await admin()
      .put(`${BUDGETS}/total`)
      .send({
        spec: {
          hard: { pods: '30' },
          assignment: 'static',
          static: [{ 'cluster-reference': 'cluster-1', hard: { pods: '30' } }],
        },
      })
      .expect(200);
    expect((await admin().get(`${BUDGETS}/total`).expect(200)).body.spec).toEqual({
      hard: { pods: '30' },
      assignment: 'static',
      static: [{ 'cluster-reference': 'cluster-1', hard: { pods: '30' } }],
    });
    await admin().delete(`${BUDGETS}/total`).expect(204);
    await admin().get(`${BUDGETS}/total`).expect(404);
  });

  it('gRPC: the same resource and the same refusals', async () => {
    const ref = { project: PROJECT, logical_cloud: LC };
    const md = bearer(TOKENS.admin);
    const created = await g.call<GrpcResource>(
      'CreateOverallQuota',
      { ...ref, body: struct(body('grpc', { hard: { pods: '4' } })) },
      undefined,
      md,
    );
    expect(json(created.body)).toMatchObject({ spec: { hard: { pods: '4' }, assignment: 'dynamic' } });
    const list = await g.call<{ items: { name: string }[] }>('ListOverallQuotas', ref, undefined, md);
    expect(list.items.map((i) => i.name)).toContain('grpc');
    const bad = await grpcError(
      g.call(
        'CreateOverallQuota',
        { ...ref, body: struct(body('bad', { hard: { pods: '3' }, reserve: { pods: '2' } })) },
        undefined,
        md,
      ),
    );
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/spec\.reserve\.pods/);
    const tenant = await grpcError(
      g.call(
        'CreateOverallQuota',
        { ...ref, body: struct(body('t', { hard: { pods: '3' } })) },
        undefined,
        bearer(TOKENS.tenant),
      ),
    );
    expect(tenant.code).toBe(status.PERMISSION_DENIED);
    await g.call('DeleteOverallQuota', { ...ref, name: 'grpc' }, undefined, md);
  });
});
