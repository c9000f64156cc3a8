/**
 * A tenant's namespace as a boundary, on both real clusters, tried with the tenant's own
 * kubeconfig and kubectl: Pod Security (baseline refuses privileged, hostPath, host namespaces;
 * restricted refuses root), container defaults under a cpu/memory quota, the NetworkPolicy of
 * each mode (the test clusters have no CNI: the objects are asserted, not the traffic), the guard
 * a tenant holding `*` cannot get past (and the DCM can), the project policy's say, and drift.
 *
 * Namespaces on the clusters are this file's own (iso-*); team-1 is a caller of project p1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type supertest from 'supertest';
import { kubectl, testClusters } from '../support/backends.js';
import { expectError, kubeconfigText, lcPath } from '../support/rest.js';
import { until } from '../support/until.js';
import { removeLeftovers, statusOf, tenantKubeconfig, type ClusterIndex } from './apply-helpers.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

type Client = ReturnType<typeof supertest>;
const PROJECT = 'p1';
const NAMESPACES = ['iso-a', 'iso-r', 'iso-d', 'iso-priv'];
const LOGICAL_CLOUDS = ['iso-lc-a', 'iso-lc-r', 'iso-lc-d', 'iso-lc-priv'];
const everything = [{ 'permission-name': 'everything', apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
/** The design's kind of quota: cpu and memory keys that make a pod without resources fail without a LimitRange. */
const QUOTA = {
  metadata: { name: 'compute' },
  spec: { 'limits.cpu': '2', 'limits.memory': '2Gi', 'requests.cpu': '1', 'requests.memory': '1Gi', pods: '10' },
};

function logicalCloud(name: string, namespace: string, isolation?: object) {
  return {
    metadata: { name },
    spec: {
      namespace,
      user: { 'user-name': `${name}-user`, 'user-permissions': everything },
      ...(isolation ? { isolation } : {}),
    },
  };
}

/** kubectl as an admin of test cluster i (the identity the DCM registered the cluster with). */
const asAdmin = (i: ClusterIndex, args: string[]) => kubectl({ path: testClusters[i].kubeconfigPath() }, args);
const adminJson = async <T>(i: ClusterIndex, args: string[]): Promise<T> => {
  const res = await asAdmin(i, [...args, '-o', 'json']);
  expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(res.stdout) as T;
};

/** A manifest in a file of its own, for `kubectl create -f`. */
function manifestFile(object: object): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcm-manifest-'));
  const file = path.join(dir, 'object.json');
  fs.writeFileSync(file, JSON.stringify(object));
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const pod = (name: string, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'main', image: 'registry.invalid/pause:1', ...container }], ...spec },
});

describe('namespace isolation', () => {
  let t: AuthTestDcm;
  let admin: Client;
  let team1: Client;
  const tenants: Record<string, string> = {};

  /** kubectl with the tenant's kubeconfig of a logical cloud (its cluster-1 context). */
  const asTenant = (lc: string, args: string[]) => kubectl({ text: tenants[lc]! }, args);
  const createAsTenant = async (lc: string, namespace: string, object: object) => {
    const manifest = manifestFile(object);
    try {
      return await asTenant(lc, ['-n', namespace, 'create', '-f', manifest.file]);
    } finally {
      manifest.remove();
    }
  };

  const applySettled = async (as: Client, lc: string) => {
    const res = await as.post(`${lcPath(PROJECT, lc)}/apply`);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
    await t.dcm.services.lifecycle.settled(PROJECT, lc);
    const status = await statusOf(admin, PROJECT, lc);
    expect({ state: status.state, errors: status.clusters.flatMap((c) => c.errors) }).toEqual({
      state: 'Instantiated',
      errors: [],
    });
    return status;
  };

  const create = async (
    as: Client,
    lc: string,
    namespace: string,
    isolation?: object,
    clusters = ['cluster-1', 'cluster-2'],
  ) => {
    await as
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud(lc, namespace, isolation))
      .expect(201);
    for (const c of clusters)
      await as
        .post(`${lcPath(PROJECT, lc)}/cluster-references`)
        .send({ name: c })
        .expect(201);
  };

  const serviceAccountReady = (i: ClusterIndex, namespace: string) =>
    until(
      async () => (await asAdmin(i, ['-n', namespace, 'get', 'serviceaccount', 'default'])).code === 0,
      `ServiceAccount default in ${namespace}`,
    );

  beforeAll(async () => {
    await removeLeftovers(NAMESPACES, LOGICAL_CLOUDS);
    t = await startAuthDcm('isolation');
    admin = t.as(TOKENS.admin);
    team1 = t.as(TOKENS.team1);
    await admin
      .post('/v2/projects')
      .send({ metadata: { name: PROJECT } })
      .expect(201);
    await admin
      .post('/v2/cluster-providers')
      .send({ metadata: { name: 'provider-1' } })
      .expect(201);
    for (const i of [1, 2] as const) {
      await admin
        .post('/v2/cluster-providers/provider-1/clusters')
        .send({ metadata: { name: `cluster-${i}` }, spec: { kubeconfig: kubeconfigText(i) } })
        .expect(201);
    }
    // Every permission in the namespace: the tenant that wants more than it was given.
    await allowEverything(admin, PROJECT);
    // The design's and EMCO's body: no isolation, so the defaults.
    await create(team1, 'iso-lc-a', 'iso-a');
    await team1
      .post(`${lcPath(PROJECT, 'iso-lc-a')}/cluster-quotas`)
      .send(QUOTA)
      .expect(201);
    await applySettled(team1, 'iso-lc-a');
    tenants['iso-lc-a'] = await tenantKubeconfig(admin, PROJECT, 'iso-lc-a', 'cluster-1');
    await serviceAccountReady(0, 'iso-a');
  });

  afterAll(async () => {
    for (const lc of LOGICAL_CLOUDS) {
      const res = await admin.post(`${lcPath(PROJECT, lc)}/terminate`);
      if (res.status === 202) await t.dcm.services.lifecycle.settled(PROJECT, lc);
    }
    await t?.close();
  });

  it('gives a body without isolation the defaults: baseline enforced, restricted warned and audited, a LimitRange, AllowSameNamespace, the guard', async () => {
    const view = (await admin.get(lcPath(PROJECT, 'iso-lc-a')).expect(200)).body as { spec: { isolation: unknown } };
    expect(view.spec.isolation).toEqual({
      podSecurity: 'baseline',
      network: 'AllowSameNamespace',
      containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    });
    for (const i of [0, 1] as const) {
      const ns = await adminJson<{ metadata: { labels: Record<string, string> } }>(i, ['get', 'namespace', 'iso-a']);
      expect(ns.metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      });
      const policy = await adminJson<{ spec: unknown }>(i, [
        '-n',
        'iso-a',
        'get',
        'networkpolicy',
        'dcm-network-isolation',
      ]);
      expect(policy.spec).toEqual({
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }] }],
      });
      const limitRange = await adminJson<{ spec: { limits: unknown[] } }>(i, [
        '-n',
        'iso-a',
        'get',
        'limitrange',
        'dcm-container-defaults',
      ]);
      expect(limitRange.spec.limits).toEqual([
        {
          type: 'Container',
          default: { cpu: '500m', memory: '512Mi' },
          defaultRequest: { cpu: '100m', memory: '128Mi' },
        },
      ]);
      const guard = await adminJson<{ spec: { validations: unknown[] } }>(i, [
        'get',
        'validatingadmissionpolicy',
        'dcm-tenant-guard',
      ]);
      expect(guard.spec.validations).toHaveLength(2);
    }
    const status = await statusOf(admin, PROJECT, 'iso-lc-a');
    const lines = status.clusters[0]!.resources.filter((r) => r.category === 'isolation').map(
      (r) => `${r.kind} ${r.name} ${r.status}`,
    );
    expect(lines).toEqual([
      'LimitRange dcm-container-defaults Created',
      'NetworkPolicy dcm-network-isolation Created',
      'ValidatingAdmissionPolicy dcm-tenant-guard Created',
    ]);
  });

  it('admits a plain pod under a cpu/memory quota with the defaults, and still refuses one that asks for more than the quota', async () => {
    const plain = await asTenant('iso-lc-a', [
      '-n',
      'iso-a',
      'run',
      'plain',
      '--image=registry.invalid/pause:1',
      '--restart=Never',
    ]);
    expect({ code: plain.code, stderr: plain.stderr }).toMatchObject({ code: 0 });
    const created = await adminJson<{ spec: { containers: { resources: unknown }[] } }>(0, [
      '-n',
      'iso-a',
      'get',
      'pod',
      'plain',
    ]);
    expect(created.spec.containers[0]!.resources).toEqual({
      limits: { cpu: '500m', memory: '512Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    });
    const greedy = await createAsTenant(
      'iso-lc-a',
      'iso-a',
      pod(
        'greedy',
        {},
        { resources: { limits: { cpu: '3', memory: '1Gi' }, requests: { cpu: '100m', memory: '100Mi' } } },
      ),
    );
    expect(greedy.code).not.toBe(0);
    expect(greedy.stderr).toMatch(/exceeded quota: dcm-quota-compute/);
  });

  it('refuses privileged, hostPath /, hostNetwork and hostPID under baseline, by Pod Security (the API server allows privileged)', async () => {
    const attempts = {
      privileged: pod('priv', {}, { securityContext: { privileged: true } }),
      hostPath: pod(
        'hostpath',
        { volumes: [{ name: 'root', hostPath: { path: '/' } }] },
        { volumeMounts: [{ name: 'root', mountPath: '/host' }] },
      ),
      hostNetwork: pod('hostnet', { hostNetwork: true }),
      hostPID: pod('hostpid', { hostPID: true }),
    };
    for (const [what, object] of Object.entries(attempts)) {
      const res = await createAsTenant('iso-lc-a', 'iso-a', object);
      expect({ what, code: res.code }).toEqual({ what, code: 1 });
      expect(res.stderr).toMatch(/violates PodSecurity "baseline:latest"/);
    }
    // The same privileged pod in a namespace without Pod Security: the cluster itself admits it (so the refusal above is the DCM's).
    const res = await asAdmin(0, [
      '-n',
      'default',
      'run',
      'iso-priv-check',
      '--image=registry.invalid/pause:1',
      '--restart=Never',
      '--privileged',
      '--dry-run=server',
    ]);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('refuses a root pod without runAsNonRoot under restricted and admits it under baseline; a project caller cannot ask for privileged', async () => {
    await create(team1, 'iso-lc-r', 'iso-r', { podSecurity: 'restricted' }, ['cluster-1']);
    await applySettled(team1, 'iso-lc-r');
    tenants['iso-lc-r'] = await tenantKubeconfig(admin, PROJECT, 'iso-lc-r', 'cluster-1');
    await serviceAccountReady(0, 'iso-r');
    const root = pod('root', {}, { securityContext: { runAsUser: 0 } });
    const refused = await createAsTenant('iso-lc-r', 'iso-r', root);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    const admitted = await createAsTenant('iso-lc-a', 'iso-a', root);
    expect({ code: admitted.code }).toEqual({ code: 0 });
    // privileged is below the default policy's minimum for a project caller; an admin may allow it.
    expectError(
      await team1
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(logicalCloud('iso-lc-priv', 'iso-priv', { podSecurity: 'privileged' })),
      403,
      /podSecurity privileged .*minimum \(baseline\)/,
    );
    const policy = (await admin.get(`/v2/projects/${PROJECT}/policy`).expect(200)).body as {
      spec: Record<string, unknown>;
    };
    await admin
      .put(`/v2/projects/${PROJECT}/policy`)
      .send({ spec: { ...policy.spec, podSecurity: { minimum: 'privileged' } } })
      .expect(200);
    await team1
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(logicalCloud('iso-lc-priv', 'iso-priv', { podSecurity: 'privileged' }))
      .expect(201);
  });

  it('keeps a tenant holding * out of the DCM objects and its namespace labels; the DCM itself still changes them', async () => {
    const refusals: Record<string, string[]> = {
      'delete networkpolicy': ['-n', 'iso-a', 'delete', 'networkpolicy', 'dcm-network-isolation'],
      'delete limitrange': ['-n', 'iso-a', 'delete', 'limitrange', 'dcm-container-defaults'],
      'edit resourcequota': [
        '-n',
        'iso-a',
        'patch',
        'resourcequota',
        'dcm-quota-compute',
        '--type=merge',
        '-p',
        '{"spec":{"hard":{"pods":"999"}}}',
      ],
      'unlabel networkpolicy': [
        '-n',
        'iso-a',
        'label',
        'networkpolicy',
        'dcm-network-isolation',
        'app.kubernetes.io/managed-by-',
      ],
    };
    for (const [what, args] of Object.entries(refusals)) {
      const res = await asTenant('iso-lc-a', args);
      expect({ what, code: res.code }).toEqual({ what, code: 1 });
      expect(res.stderr).toMatch(/dcm-tenant-guard: this object is managed by the DCM/);
    }
    // The Namespace object is not in any namespaced grant (a `*` is written without it), and the guard refuses it too.
    const relabel = await asTenant('iso-lc-a', [
      'label',
      'namespace',
      'iso-a',
      'pod-security.kubernetes.io/enforce=privileged',
      '--overwrite',
    ]);
    expect(relabel.code).toBe(1);
    expect(relabel.stderr).toMatch(/forbidden/i);
    const remove = await asTenant('iso-lc-a', ['delete', 'namespace', 'iso-a']);
    expect(remove.code).toBe(1);
    // Its own objects the tenant manages as it likes.
    expect((await asTenant('iso-lc-a', ['-n', 'iso-a', 'create', 'configmap', 'mine'])).code).toBe(0);
    expect((await asTenant('iso-lc-a', ['-n', 'iso-a', 'delete', 'configmap', 'mine'])).code).toBe(0);
    // The DCM's identity is let through: it changes the quota when the logical cloud changes.
    await admin
      .put(`${lcPath(PROJECT, 'iso-lc-a')}/cluster-quotas/compute`)
      .send({ ...QUOTA, spec: { ...QUOTA.spec, pods: '12' } })
      .expect(200);
    await applySettled(admin, 'iso-lc-a');
    const quota = await adminJson<{ spec: { hard: Record<string, string> } }>(0, [
      '-n',
      'iso-a',
      'get',
      'resourcequota',
      'dcm-quota-compute',
    ]);
    expect(quota.spec.hard.pods).toBe('12');
  });

  it('in DenyAll admits no ingress and only DNS egress, and refuses tenant NetworkPolicies that open egress outside the namespace', async () => {
    await create(team1, 'iso-lc-d', 'iso-d', { network: 'DenyAll' }, ['cluster-1']);
    await applySettled(team1, 'iso-lc-d');
    tenants['iso-lc-d'] = await tenantKubeconfig(admin, PROJECT, 'iso-lc-d', 'cluster-1');
    const policy = await adminJson<{ spec: { policyTypes: string[]; ingress?: unknown; egress: unknown[] } }>(0, [
      '-n',
      'iso-d',
      'get',
      'networkpolicy',
      'dcm-network-isolation',
    ]);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]);
    const np = (name: string, egress: unknown[]) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress },
    });
    const out = await createAsTenant('iso-lc-d', 'iso-d', np('out', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }]));
    expect(out.stderr).toMatch(/dcm-tenant-guard: this namespace's network isolation is DenyAll/);
    const anywhere = await createAsTenant('iso-lc-d', 'iso-d', np('anywhere', [{}]));
    expect(anywhere.code).toBe(1);
    const inside = await createAsTenant(
      'iso-lc-d',
      'iso-d',
      np('inside', [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }]),
    );
    expect({ code: inside.code, stderr: inside.stderr }).toEqual({ code: 0, stderr: '' });
    // In AllowSameNamespace the same policy that opens egress is the tenant's own business.
    const open = await createAsTenant('iso-lc-a', 'iso-a', np('out', [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }]));
    expect(open.code).toBe(0);
  });

  it('converges a changed isolation at the next apply: mode, level and defaults', async () => {
    const isolation = {
      podSecurity: 'restricted',
      network: 'AllowAll',
      containerDefaults: { limits: { cpu: '250m' } },
    };
    await team1
      .put(lcPath(PROJECT, 'iso-lc-a'))
      .send({ spec: { namespace: 'iso-a', user: { 'user-name': 'iso-lc-a-user' }, isolation } })
      .expect(200);
    await applySettled(team1, 'iso-lc-a');
    for (const i of [0, 1] as const) {
      const ns = await adminJson<{ metadata: { labels: Record<string, string> } }>(i, ['get', 'namespace', 'iso-a']);
      expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      expect((await asAdmin(i, ['-n', 'iso-a', 'get', 'networkpolicy', 'dcm-network-isolation'])).code).toBe(1);
      const limitRange = await adminJson<{ spec: { limits: { default: Record<string, string> }[] } }>(i, [
        '-n',
        'iso-a',
        'get',
        'limitrange',
        'dcm-container-defaults',
      ]);
      expect(limitRange.spec.limits[0]!.default.cpu).toBe('250m');
    }
  });

  it('refuses container defaults above a quota of the logical cloud, naming both', async () => {
    const res = await team1.put(lcPath(PROJECT, 'iso-lc-a')).send({
      spec: {
        namespace: 'iso-a',
        user: { 'user-name': 'iso-lc-a-user' },
        isolation: { containerDefaults: { limits: { memory: '4Gi' } } },
      },
    });
    expectError(res, 400);
    expect((res.body as { details: { field: string; message: string }[] }).details).toEqual([
      {
        field: 'spec.isolation.containerDefaults.limits.memory',
        message: expect.stringContaining('cluster quota compute (limits.memory: 2Gi)'),
      },
    ]);
    const bad = await team1
      .post(`/v2/projects/${PROJECT}/logical-clouds`)
      .send(
        logicalCloud('iso-bad', 'iso-bad', { podSecurity: 'lax', containerDefaults: { requests: { cpu: 'lots' } } }),
      );
    expectError(bad, 400);
    expect((bad.body as { details: { field: string }[] }).details.map((d) => d.field).sort()).toEqual([
      'spec.isolation.containerDefaults.requests.cpu',
      'spec.isolation.podSecurity',
    ]);
  });

  it('restores a deleted NetworkPolicy, a relabelled namespace and a deleted guard by drift repair', async () => {
    await t.dcm.services.driftWatcher.start();
    try {
      await t.dcm.services.driftWatcher.idle();
      expect((await asAdmin(0, ['-n', 'iso-d', 'delete', 'networkpolicy', 'dcm-network-isolation'])).code).toBe(0);
      await until(
        async () => (await asAdmin(0, ['-n', 'iso-d', 'get', 'networkpolicy', 'dcm-network-isolation'])).code === 0,
        'the NetworkPolicy restored',
      );
      // An admin (let through by the guard) forces a weaker level: drift puts the DCM's back.
      expect(
        (
          await asAdmin(0, [
            'label',
            'namespace',
            'iso-d',
            'pod-security.kubernetes.io/enforce=privileged',
            '--overwrite',
          ])
        ).code,
      ).toBe(0);
      const enforced = async () =>
        (await adminJson<{ metadata: { labels: Record<string, string> } }>(0, ['get', 'namespace', 'iso-d'])).metadata
          .labels['pod-security.kubernetes.io/enforce'];
      await until(async () => (await enforced()) === 'baseline', 'the Pod Security label restored');
      // The cluster's guard is no logical cloud's own object: its deletion is repaired through one of them.
      expect((await asAdmin(0, ['delete', 'validatingadmissionpolicy', 'dcm-tenant-guard'])).code).toBe(0);
      await until(
        async () => (await asAdmin(0, ['get', 'validatingadmissionpolicy', 'dcm-tenant-guard'])).code === 0,
        'the guard restored',
      );
    } finally {
      await t.dcm.services.driftWatcher.stop();
    }
  });
});
