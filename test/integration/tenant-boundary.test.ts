/**
 * The tenant boundary, tried as a hostile tenant would, on both real clusters with kubectl and
 * project tokens: project policies and the permission ceiling (REST and gRPC), identities that
 * cannot collide or outlive their logical cloud, a user name that cannot borrow the cluster's
 * grants, revocation, and namespaces that cannot be taken from others.
 *
 * Namespaces on the clusters are this file's own (tb-*); team-1 is a caller of project p1,
 * team-2 of p2 (auth-fixtures.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import yaml from 'js-yaml';
import type supertest from 'supertest';
import { kubectl, testClusters } from '../support/backends.js';
import { bearer, grpcError, startTestGrpc, struct, type TestGrpc } from '../support/grpc.js';
import { expectError, kubeconfigText, lcPath } from '../support/rest.js';
import {
  logicalCloudSelector,
  namespaceExists,
  rbac,
  statusOf,
  tenantLogicalCloud,
  type ClusterIndex,
} from './apply-helpers.js';
import { startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

type Client = ReturnType<typeof supertest>;

const NAMESPACES = ['tb-a', 'tb-b', 'tb-alice'];
const LOGICAL_CLOUDS = ['tb-lc-a', 'tb-lc-b', 'tb-lc-alice'];
/** A ClusterRoleBinding the test gives `User alice` on both clusters, as a cluster admin would for a person. */
const ALICE_BINDING = 'tb-person-alice-view';

/** Permissions inside the ceiling of a new project: explicit verbs, the logical cloud's namespace. */
function boundedLogicalCloud(name: string, namespace: string, user: string) {
  const body = tenantLogicalCloud(name, namespace, user);
  body.spec.user['user-permissions'] = [
    {
      'permission-name': 'permission-1',
      apiGroups: [''],
      resources: ['configmaps', 'secrets'],
      verbs: ['get', 'list', 'create'],
    },
  ];
  return body;
}

const clusterWideEverything = { name: 'everything', namespace: '', apiGroups: ['*'], resources: ['*'], verbs: ['*'] };
const escalation = {
  name: 'escalate',
  apiGroups: ['rbac.authorization.k8s.io'],
  resources: ['roles', 'rolebindings'],
  verbs: ['escalate', 'bind'],
};

describe('tenant boundary', () => {
  let t: AuthTestDcm;
  let admin: Client;
  let team1: Client;
  let team2: Client;
  let g: TestGrpc;
  /** Kubeconfigs downloaded along the way, by name. */
  const kubeconfigs: Record<string, string> = {};

  const canI = async (kubeconfig: string, cluster: ClusterIndex, ...args: string[]): Promise<string> => {
    const { stdout } = await kubectl({ text: kubeconfig }, [
      '--context',
      contextOf(kubeconfig, cluster),
      'auth',
      'can-i',
      ...args,
    ]);
    return stdout.trim();
  };
  const contextOf = (kubeconfig: string, cluster: ClusterIndex) => {
    const contexts = (yaml.load(kubeconfig) as { contexts: { name: string }[] }).contexts.map((c) => c.name);
    const wanted = contexts.find((c) => c.endsWith(`@cluster-${cluster + 1}`));
    if (!wanted) throw new Error(`no context for cluster-${cluster + 1} in ${contexts.join(', ')}`);
    return wanted;
  };
  const both: ClusterIndex[] = [0, 1];

  const applyAndSettle = async (as: Client, project: string, lc: string) => {
    const res = await as.post(`${lcPath(project, lc)}/apply`);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
    await t.dcm.services.lifecycle.settled(project, lc);
    const status = await statusOf(admin, project, lc);
    expect({ state: status.state, errors: status.clusters.flatMap((c) => c.errors) }).toEqual({
      state: 'Instantiated',
      errors: [],
    });
    return status;
  };
  const download = async (as: Client, project: string, lc: string) => {
    const res = await as.get(`${lcPath(project, lc)}/kubeconfig`);
    expect(res.status).toBe(200);
    return res.text;
  };
  const reference = (as: Client, project: string, lc: string, cluster: string) =>
    as
      .post(`${lcPath(project, lc)}/cluster-references`)
      .send({ name: cluster, 'cluster-provider': 'provider-1', 'cluster-name': cluster });

  beforeAll(async () => {
    for (const i of both) for (const ns of NAMESPACES) expect(await namespaceExists(i, ns)).toBe(false);
    t = await startAuthDcm('tenant_boundary');
    admin = t.as(TOKENS.admin);
    team1 = t.as(TOKENS.team1);
    team2 = t.as(TOKENS.team2);
    g = await startTestGrpc(t);
    for (const p of ['p1', 'p2'])
      await admin
        .post('/v2/projects')
        .send({ metadata: { name: p } })
        .expect(201);
    await admin
      .post('/v2/cluster-providers')
      .send({ metadata: { name: 'provider-1' } })
      .expect(201);
    for (const i of [1, 2] as const) {
      await admin
        .post('/v2/cluster-providers/provider-1/clusters')
        .send({
          metadata: { name: `cluster-${i}` },
          spec: { kubeconfig: kubeconfigText(i), labels: { tier: i === 1 ? 'dev' : 'prod' } },
        })
        .expect(201);
    }
    for (const i of both) {
      await rbac(i).createClusterRoleBinding({
        body: {
          metadata: { name: ALICE_BINDING },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
        },
      });
    }
  });

  afterAll(async () => {
    await g?.close();
    for (const [project, lc] of [
      ['p1', 'tb-lc-a'],
      ['p2', 'tb-lc-b'],
      ['p1', 'tb-lc-alice'],
    ] as const) {
      const res = await admin.post(`${lcPath(project, lc)}/terminate`);
      if (res.status === 202) await t.dcm.services.lifecycle.settled(project, lc);
    }
    for (const i of both) {
      await rbac(i)
        .deleteClusterRoleBinding({ name: ALICE_BINDING })
        .catch(() => undefined);
      for (const lc of LOGICAL_CLOUDS) {
        await rbac(i)
          .deleteCollectionClusterRoleBinding({ labelSelector: logicalCloudSelector(lc) })
          .catch(() => undefined);
      }
    }
    await t?.close();
  });

  describe('project policy and permission ceiling', () => {
    it('a project caller reads its policy (the default) and may not set it; an admin may', async () => {
      const own = await team1.get('/v2/projects/p1/policy');
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({
        metadata: { project: 'p1', custom: false },
        spec: {
          clusters: { providers: [], clusters: [], labels: {} },
          allowAdminLevel: false,
          clusterWide: { allowed: false, ceiling: [] },
        },
      });
      expectError(await team1.get('/v2/projects/p2/policy'), 403);
      expectError(
        await team1.put('/v2/projects/p1/policy').send({ spec: { clusters: { providers: ['provider-1'] } } }),
        403,
        /admin only/,
      );
      expectError(await team1.delete('/v2/projects/p1/policy'), 403);
      const bad = await admin.put('/v2/projects/p1/policy').send({ spec: { clusters: { clusters: ['cluster-1'] } } });
      expectError(bad, 400);
      expect((bad.body as { details: { field: string }[] }).details[0]?.field).toBe('spec.clusters.clusters.0');
    });

    it('refuses the cluster-wide "*" rule and the escalation rule with 403 naming them and the policy', async () => {
      const wide = tenantLogicalCloud('tb-lc-a', 'tb-a', 'user-1');
      wide.spec.user['user-permissions'] = [
        { 'permission-name': 'everything', namespace: '', apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      ] as never;
      expectError(
        await team1.post('/v2/projects/p1/logical-clouds').send(wide),
        403,
        /policy of project p1: permission everything is cluster-wide/,
      );
      // The design's own permission-2 asks for verbs "*": outside a ceiling of listed verbs.
      expectError(
        await team1.post('/v2/projects/p1/logical-clouds').send(tenantLogicalCloud('tb-lc-a', 'tb-a', 'user-1')),
        403,
        /permission-2 asks for verb "\*"/,
      );
      await team1
        .post('/v2/projects/p1/logical-clouds')
        .send(boundedLogicalCloud('tb-lc-a', 'tb-a', 'user-1'))
        .expect(201);
      expectError(
        await team1.post(`${lcPath('p1', 'tb-lc-a')}/user-permissions`).send(clusterWideEverything),
        403,
        /cluster-wide/,
      );
      expectError(
        await team1.post(`${lcPath('p1', 'tb-lc-a')}/user-permissions`).send(escalation),
        403,
        /verb "escalate" on resource "roles" of API group "rbac.authorization.k8s.io"/,
      );
      const levelZero = { metadata: { name: 'tb-admin' }, spec: { level: '0' } };
      expectError(await team1.post('/v2/projects/p1/logical-clouds').send(levelZero), 403, /level "0"/);
      // Nothing of the refused writes is there.
      const permissions = await team1.get(`${lcPath('p1', 'tb-lc-a')}/user-permissions`).expect(200);
      expect((permissions.body as { permissions: { name: string }[] }).permissions.map((p) => p.name)).toEqual([
        'permission-1',
      ]);
      expectError(await team1.get(`${lcPath('p1', 'tb-admin')}`), 404);
    });

    it('refuses a cluster outside the policy; the same request succeeds once an admin widens it', async () => {
      expectError(
        await reference(team1, 'p1', 'tb-lc-a', 'cluster-1'),
        403,
        /cluster cluster-1 of provider provider-1 is not among the clusters the project may use/,
      );
      await admin
        .put('/v2/projects/p1/policy')
        .send({ spec: { clusters: { labels: { tier: 'dev' } } } })
        .expect(200);
      expect((await reference(team1, 'p1', 'tb-lc-a', 'cluster-1')).status).toBe(201);
      expectError(await reference(team1, 'p1', 'tb-lc-a', 'cluster-2'), 403, /cluster-2/);
      const widened = await admin
        .put('/v2/projects/p1/policy')
        .send({ spec: { clusters: { providers: ['provider-1'] } } });
      expect(widened.body).toMatchObject({ metadata: { custom: true, updatedBy: 'root' } });
      expect((await reference(team1, 'p1', 'tb-lc-a', 'cluster-2')).status).toBe(201);
    });

    it('what an admin wrote past the policy is refused at a non-admin apply, and applies once removed', async () => {
      await admin
        .post(`${lcPath('p1', 'tb-lc-a')}/user-permissions`)
        .send(clusterWideEverything)
        .expect(201);
      expectError(await team1.post(`${lcPath('p1', 'tb-lc-a')}/apply`), 403, /permission everything is cluster-wide/);
      expect((await statusOf(admin, 'p1', 'tb-lc-a')).state).toBe('Created');
      await admin.delete(`${lcPath('p1', 'tb-lc-a')}/user-permissions/everything`).expect(204);
      await applyAndSettle(team1, 'p1', 'tb-lc-a');
      kubeconfigs.a1 = await download(team1, 'p1', 'tb-lc-a');
      for (const i of both) {
        expect(await canI(kubeconfigs.a1, i, 'list', 'secrets', '-n', 'tb-a')).toBe('yes');
        expect(await canI(kubeconfigs.a1, i, '*', '*', '--all-namespaces')).toBe('no');
        expect(await canI(kubeconfigs.a1, i, 'list', 'secrets', '-n', 'kube-system')).toBe('no');
      }
      const whoami = await kubectl({ text: kubeconfigs.a1 }, [
        '--context',
        contextOf(kubeconfigs.a1, 0),
        'auth',
        'whoami',
        '-o',
        'jsonpath={.status.userInfo.username} {.status.userInfo.groups}',
      ]);
      expect(whoami.stdout).toMatch(/^dcm:p1:tb-lc-a:user-1 \["dcm:lc:[0-9a-f-]{36}:[0-9a-f]{12}"/);
    });

    it('over gRPC: the same refusals, PERMISSION_DENIED', async () => {
      const asTeam1 = bearer(TOKENS.team1);
      const child = { project: 'p1', logical_cloud: 'tb-lc-a' };
      const wide = await grpcError(
        g.call('CreateUserPermission', { ...child, body: struct(clusterWideEverything) }, {}, asTeam1),
      );
      expect({ code: wide.code, details: wide.details }).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringMatching(/cluster-wide/),
      });
      const esc = await grpcError(g.call('CreateUserPermission', { ...child, body: struct(escalation) }, {}, asTeam1));
      expect({ code: esc.code, details: esc.details }).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringMatching(/escalate/),
      });
      const policy = await grpcError(
        g.call('SetProjectPolicy', { project: 'p1', body: struct({ spec: { allowAdminLevel: true } }) }, {}, asTeam1),
      );
      expect(policy.code).toBe(grpc.status.PERMISSION_DENIED);
      const read = await g.call<{ body: unknown }>('GetProjectPolicy', { project: 'p1' }, {}, asTeam1);
      expect(read.body).toBeDefined();
      const clusterRef = await grpcError(
        g.call(
          'CreateClusterReference',
          { project: 'p2', logical_cloud: 'none', body: struct({ name: 'cluster-1' }) },
          {},
          asTeam1,
        ),
      );
      expect(clusterRef.code).toBe(grpc.status.PERMISSION_DENIED);
      await g.call(
        'SetProjectPolicy',
        { project: 'p2', body: struct({ spec: { clusters: { clusters: ['provider-1/cluster-1'] } } }) },
        {},
        bearer(TOKENS.admin),
      );
      await team2
        .post('/v2/projects/p2/logical-clouds')
        .send(boundedLogicalCloud('tb-lc-b', 'tb-b', 'user-1'))
        .expect(201);
      const outside = await grpcError(
        g.call(
          'CreateClusterReference',
          {
            project: 'p2',
            logical_cloud: 'tb-lc-b',
            body: struct({ name: 'cluster-2', 'cluster-provider': 'provider-1', 'cluster-name': 'cluster-2' }),
          },
          {},
          bearer(TOKENS.team2),
        ),
      );
      expect({ code: outside.code, details: outside.details }).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details: expect.stringMatching(/cluster-2/),
      });
    });
  });

  describe('identities', () => {
    it('two logical clouds of two projects share the user name user-1, each confined to its namespace', async () => {
      await admin
        .put('/v2/projects/p2/policy')
        .send({ spec: { clusters: { providers: ['provider-1'] } } })
        .expect(200);
      for (const c of ['cluster-1', 'cluster-2']) expect((await reference(team2, 'p2', 'tb-lc-b', c)).status).toBe(201);
      await applyAndSettle(team2, 'p2', 'tb-lc-b');
      kubeconfigs.b = await download(team2, 'p2', 'tb-lc-b');
      for (const i of both) {
        expect(await canI(kubeconfigs.b!, i, 'list', 'secrets', '-n', 'tb-b')).toBe('yes');
        expect(await canI(kubeconfigs.b!, i, 'list', 'secrets', '-n', 'tb-a')).toBe('no');
        expect(await canI(kubeconfigs.a1!, i, 'list', 'secrets', '-n', 'tb-b')).toBe('no');
        expect(await canI(kubeconfigs.a1!, i, 'list', 'secrets', '-n', 'tb-a')).toBe('yes');
      }
    });

    it('A terminated: its kubeconfig is Forbidden everywhere, also once A is applied again with the same user', async () => {
      const res = await team1.post(`${lcPath('p1', 'tb-lc-a')}/terminate`);
      expect(res.status).toBe(202);
      await t.dcm.services.lifecycle.settled('p1', 'tb-lc-a');
      for (const i of both) {
        expect(await canI(kubeconfigs.a1!, i, 'list', 'secrets', '-n', 'tb-b')).toBe('no');
        expect(await canI(kubeconfigs.a1!, i, 'list', 'secrets', '-n', 'tb-a')).toBe('no');
      }
      await applyAndSettle(team1, 'p1', 'tb-lc-a');
      kubeconfigs.a2 = await download(team1, 'p1', 'tb-lc-a');
      for (const i of both) {
        expect(await canI(kubeconfigs.a1!, i, 'list', 'secrets', '-n', 'tb-a')).toBe('no');
        expect(await canI(kubeconfigs.a2, i, 'list', 'secrets', '-n', 'tb-a')).toBe('yes');
        const denied = await kubectl({ text: kubeconfigs.a1! }, [
          '--context',
          contextOf(kubeconfigs.a1!, i),
          'get',
          'secrets',
          '-n',
          'tb-a',
        ]);
        expect(denied.stderr).toMatch(/forbidden/i);
      }
    });

    it('a tenant named alice gets nothing of what the cluster grants User alice', async () => {
      await team1
        .post('/v2/projects/p1/logical-clouds')
        .send(boundedLogicalCloud('tb-lc-alice', 'tb-alice', 'alice'))
        .expect(201);
      for (const c of ['cluster-1', 'cluster-2'])
        expect((await reference(team1, 'p1', 'tb-lc-alice', c)).status).toBe(201);
      await applyAndSettle(team1, 'p1', 'tb-lc-alice');
      const alice = await download(team1, 'p1', 'tb-lc-alice');
      for (const i of both) {
        // The person alice may read pods in kube-system (ClusterRole view); the tenant alice may not.
        const person = await kubectl({ path: testClusters[i].kubeconfigPath() }, [
          'auth',
          'can-i',
          'list',
          'pods',
          '-n',
          'kube-system',
          '--as',
          'alice',
        ]);
        expect(person.stdout.trim()).toBe('yes');
        expect(await canI(alice, i, 'list', 'pods', '-n', 'kube-system')).toBe('no');
        expect(await canI(alice, i, 'list', 'configmaps', '-n', 'tb-alice')).toBe('yes');
      }
    });
  });

  describe('revocation', () => {
    it('revoke-credentials: the old kubeconfig is Forbidden on both clusters, the new one works; status shows the generation', async () => {
      const before = (await statusOf(admin, 'p1', 'tb-lc-a')) as unknown as { credentials: { generation: number } };
      const res = await team1.post(`${lcPath('p1', 'tb-lc-a')}/revoke-credentials`);
      expect(res.status).toBe(202);
      await t.dcm.services.lifecycle.settled('p1', 'tb-lc-a');
      const after = (await statusOf(admin, 'p1', 'tb-lc-a')) as unknown as {
        state: string;
        credentials: { generation: number };
        clusters: { 'certificate-not-after': string }[];
      };
      expect(after.state).toBe('Instantiated');
      expect(after.credentials.generation).toBe(before.credentials.generation + 1);
      for (const c of after.clusters)
        expect(new Date(c['certificate-not-after']).getTime()).toBeGreaterThan(Date.now());
      const fresh = await download(team1, 'p1', 'tb-lc-a');
      for (const i of both) {
        expect(await canI(kubeconfigs.a2!, i, 'list', 'secrets', '-n', 'tb-a')).toBe('no');
        expect(
          (
            await kubectl({ text: kubeconfigs.a2! }, [
              '--context',
              contextOf(kubeconfigs.a2!, i),
              'get',
              'configmaps',
              '-n',
              'tb-a',
            ])
          ).stderr,
        ).toMatch(/forbidden/i);
        expect(await canI(fresh, i, 'list', 'secrets', '-n', 'tb-a')).toBe('yes');
        expect(
          (await kubectl({ text: fresh }, ['--context', contextOf(fresh, i), 'get', 'configmaps', '-n', 'tb-a'])).code,
        ).toBe(0);
      }
      // The tenant of another logical cloud is untouched.
      expect(await canI(kubeconfigs.b!, 0, 'list', 'secrets', '-n', 'tb-b')).toBe('yes');
    });

    it('over gRPC too; refused for another project and before an apply', async () => {
      const revoked = await g.call<{ state: string }>(
        'RevokeCredentials',
        { project: 'p1', logical_cloud: 'tb-lc-alice' },
        {},
        bearer(TOKENS.team1),
      );
      expect(revoked.state).toBe('Instantiating');
      await t.dcm.services.lifecycle.settled('p1', 'tb-lc-alice');
      const other = await grpcError(
        g.call('RevokeCredentials', { project: 'p2', logical_cloud: 'tb-lc-b' }, {}, bearer(TOKENS.team1)),
      );
      expect(other.code).toBe(grpc.status.PERMISSION_DENIED);
      await team1
        .post('/v2/projects/p1/logical-clouds')
        .send(boundedLogicalCloud('tb-lc-idle', 'tb-idle', 'user-1'))
        .expect(201);
      expectError(await team1.post(`${lcPath('p1', 'tb-lc-idle')}/revoke-credentials`), 409, /not applied/);
    });
  });

  describe('namespaces', () => {
    it('a namespace another logical cloud holds is refused with 409, naming the owner only to who may see it', async () => {
      const stolen = await team2
        .post('/v2/projects/p2/logical-clouds')
        .send(boundedLogicalCloud('tb-thief', 'tb-a', 'user-1'));
      expectError(stolen, 409, /namespace tb-a belongs to a logical cloud of another project/);
      expect(stolen.text).not.toMatch(/tb-lc-a|p1/);
      expectError(
        await admin.post('/v2/projects/p2/logical-clouds').send(boundedLogicalCloud('tb-thief', 'tb-a', 'user-1')),
        409,
        /Logical Cloud tb-lc-a of project p1/,
      );
      expectError(
        await team1.post('/v2/projects/p1/logical-clouds').send(boundedLogicalCloud('tb-twin', 'tb-a', 'user-1')),
        409,
        /Logical Cloud tb-lc-a of project p1/,
      );
      // By update too.
      expectError(await team2.put(lcPath('p2', 'tb-lc-b')).send(boundedLogicalCloud('tb-lc-b', 'tb-a', 'user-1')), 409);
    });

    it.each([
      ['default', /Kubernetes/],
      ['kube-system', /Kubernetes/],
      ['istio-system', /Istio/],
      ['istio-dcm-0123abcd', /control planes/],
    ])('namespace %s is refused with 409 naming its owner', async (namespace, owner) => {
      const res = await team1
        .post('/v2/projects/p1/logical-clouds')
        .send(boundedLogicalCloud('tb-reserved', namespace, 'user-1'));
      expectError(res, 409, owner);
      expect((res.body as { details: { field: string }[] }).details[0]?.field).toBe('spec.namespace');
    });

    it('a deleted logical cloud gives its namespace back', async () => {
      await team1.delete(lcPath('p1', 'tb-lc-idle')).expect(204);
      await team2
        .post('/v2/projects/p2/logical-clouds')
        .send(boundedLogicalCloud('tb-lc-idle', 'tb-idle', 'user-1'))
        .expect(201);
    });
  });
});
