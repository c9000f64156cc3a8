/**
 * Issue 14 item 2, bounded input: every list and string of every body has a limit (LIMITS in
 * src/validation/limits.ts, listed in docs/api.md). Over it, the answer is a 400 whose details name
 * the field and the limit; at it, the body is accepted. A 160 KB permission of 40,000 API groups
 * is refused with one detail, at once. And what the status store keeps of a cluster is bounded
 * on the real MongoDB-protocol server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LifecycleStatusStore, type LifecycleDocument } from '../../src/features/lifecycle/lifecycle-status.store.js';
import { LIMITS } from '../../src/validation/limits.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import {
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  kubeconfigText,
  lcPath,
} from '../support/rest.js';

const PROJECT = 'limits-p1';
const lc1 = lcPath(PROJECT, 'lc-1');
const permissions = `${lc1}/user-permissions`;
const quotas = `${lc1}/cluster-quotas`;
const kvPairs = `${lc1}/kv-pairs`;
const references = `${lc1}/cluster-references`;
const clusters = '/v2/cluster-providers/provider-1/clusters';
const policy = `/v2/projects/${PROJECT}/policy`;

type Body = Record<string, unknown>;

const times = <T>(n: number, item: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => item(i));
const groups = (n: number) => times(n, (i) => `g${i}.example.com`);
const resources = (n: number) => times(n, (i) => `widgets${i}`);
const API_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const labels = (n: number) => Object.fromEntries(times(n, (i) => [`team-${i}`, `v${i}`]));
const quotaKeys = (n: number) => Object.fromEntries(times(n, (i) => [`count/widgets${i}.example.com`, '10']));

const permission = (change: Body = {}): Body => ({
  name: 'perm-new',
  apiGroups: ['apps'],
  resources: ['deployments'],
  verbs: ['get'],
  ...change,
});

function logicalCloud(name: string, spec: Body = {}, user: Body = {}): Body {
  return {
    metadata: { name },
    spec: { namespace: `ns-${name}`, ...spec, user: { 'user-name': 'user-1', type: 'certificate', ...user } },
  };
}

const cluster = (name: string, spec: Body = {}): Body => ({
  metadata: { name },
  spec: { kubeconfig: kubeconfigText(1), ...spec },
});

interface Case {
  what: string;
  method?: 'post' | 'put';
  path: string;
  body: Body;
  field: string;
  limit: string | RegExp;
}

const cases: Case[] = [
  // RBAC rules (design and EMCO form)
  {
    what: '51 API groups',
    path: permissions,
    body: permission({ apiGroups: groups(51) }),
    field: 'apiGroups',
    limit: 'at most 50 API groups',
  },
  {
    what: '101 resources',
    path: permissions,
    body: permission({ resources: resources(101) }),
    field: 'resources',
    limit: 'at most 100 resources',
  },
  {
    what: '17 verbs',
    path: permissions,
    body: permission({ verbs: [...API_VERBS, ...API_VERBS, 'get'] }),
    field: 'verbs',
    limit: 'at most 16 verbs',
  },
  {
    what: 'an API group of 254 characters',
    path: permissions,
    body: permission({ apiGroups: ['a'.repeat(254)] }),
    field: 'apiGroups.0',
    limit: 'at most 253 characters',
  },
  {
    what: 'a resource of 128 characters',
    path: permissions,
    body: permission({ resources: ['a'.repeat(128)] }),
    field: 'resources.0',
    limit: 'at most 127 characters',
  },
  {
    what: '51 API groups in the EMCO form',
    path: permissions,
    body: { metadata: { name: 'perm-emco' }, spec: { apiGroups: groups(51), resources: ['pods'], verbs: ['get'] } },
    field: 'spec.apiGroups',
    limit: 'at most 50 API groups',
  },
  // Logical clouds
  {
    what: '101 inline permissions',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud(
      'lc-x',
      {},
      {
        'user-permissions': times(101, (i) => ({
          'permission-name': `p${i}`,
          apiGroups: [''],
          resources: ['pods'],
          verbs: ['get'],
        })),
      },
    ),
    field: 'spec.user.user-permissions',
    limit: 'at most 100 permissions',
  },
  {
    what: 'an inline permission of 51 API groups',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud(
      'lc-x',
      {},
      { 'user-permissions': [{ 'permission-name': 'p', apiGroups: groups(51), resources: ['pods'], verbs: ['get'] }] },
    ),
    field: 'spec.user.user-permissions.0.apiGroups',
    limit: 'at most 50 API groups',
  },
  {
    what: '65 labels',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud('lc-x', { labels: labels(65) }),
    field: 'spec.labels',
    limit: 'at most 64 labels',
  },
  {
    what: 'a label key of 318 characters',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud('lc-x', { labels: { [`${'a'.repeat(254)}/${'b'.repeat(63)}`]: 'v' } }),
    field: `spec.labels.${'a'.repeat(40)}…`,
    limit: 'a key is at most 317 characters',
  },
  {
    what: 'a label value of 64 characters',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud('lc-x', { labels: { team: 'v'.repeat(64) } }),
    field: 'spec.labels.team',
    limit: 'at most 63 characters',
  },
  {
    what: 'a user type of 65 characters',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: logicalCloud('lc-x', {}, { type: 'c'.repeat(65) }),
    field: 'spec.user.type',
    limit: 'at most 64 characters',
  },
  {
    what: 'a description of 1025 characters',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: { ...logicalCloud('lc-x'), metadata: { name: 'lc-x', description: 'd'.repeat(1025) } },
    field: 'metadata.description',
    limit: 'at most 1024 characters',
  },
  {
    what: 'a userData1 of 513 characters',
    path: `/v2/projects/${PROJECT}/logical-clouds`,
    body: { ...logicalCloud('lc-x'), metadata: { name: 'lc-x', userData1: 'u'.repeat(513) } },
    field: 'metadata.userData1',
    limit: 'at most 512 characters',
  },
  // Cluster quotas
  {
    what: '65 quota keys',
    path: quotas,
    body: { metadata: { name: 'q-x' }, spec: quotaKeys(65) },
    field: 'spec',
    limit: 'at most 64 quota keys',
  },
  {
    what: 'a quota key of 318 characters',
    path: quotas,
    body: { metadata: { name: 'q-x' }, spec: { [`requests.${'a'.repeat(309)}`]: '1' } },
    field: `spec.requests.${'a'.repeat(31)}…`,
    limit: 'a key is at most 317 characters',
  },
  {
    what: 'a quota value of 65 characters',
    path: quotas,
    body: { metadata: { name: 'q-x' }, spec: { cpu: '1'.repeat(65) } },
    field: 'spec.cpu',
    limit: 'at most 64 characters',
  },
  // KV pairs
  {
    what: '101 kv entries',
    path: kvPairs,
    body: { metadata: { name: 'kv-x' }, spec: { kv: times(101, (i) => ({ [`k${i}`]: 'v' })) } },
    field: 'spec.kv',
    limit: 'at most 100 entries',
  },
  {
    what: 'a kv key of 257 characters',
    path: kvPairs,
    body: { metadata: { name: 'kv-x' }, spec: { kv: [{ ['k'.repeat(257)]: 'v' }] } },
    field: `spec.kv.0.${'k'.repeat(40)}…`,
    limit: 'a key is at most 256 characters',
  },
  {
    what: 'a kv value of 4097 characters',
    path: kvPairs,
    body: { metadata: { name: 'kv-x' }, spec: { kv: [{ k: 'v'.repeat(4097) }] } },
    field: 'spec.kv.0.k',
    limit: 'at most 4096 characters',
  },
  {
    what: 'a kv entry of two keys',
    path: kvPairs,
    body: { metadata: { name: 'kv-x' }, spec: { kv: [{ a: 1, b: 2 }] } },
    field: 'spec.kv.0',
    limit: /at most 1 key per entry/,
  },
  // Clusters
  {
    what: '65 cluster labels',
    path: clusters,
    body: cluster('c-x', { labels: labels(65) }),
    field: 'spec.labels',
    limit: 'at most 64 labels',
  },
  {
    what: 'a cluster label value of 64 characters',
    path: clusters,
    body: cluster('c-x', { labels: { zone: 'z'.repeat(64) } }),
    field: 'spec.labels.zone',
    limit: 'at most 63 characters',
  },
  {
    what: 'a kubeconfig over 512 KiB',
    path: clusters,
    body: cluster('c-x', { kubeconfig: 'k'.repeat(LIMITS.kubeconfigLength + 1) }),
    field: 'spec.kubeconfig',
    limit: `at most ${LIMITS.kubeconfigLength} characters`,
  },
  {
    what: 'a CA key over 16 KiB',
    path: clusters,
    body: cluster('c-x', { 'ca-key': 'k'.repeat(LIMITS.caKeyLength + 1) }),
    field: 'spec.ca-key',
    limit: `at most ${LIMITS.caKeyLength} characters`,
  },
  // Cluster references
  {
    what: 'a load balancer IP of 46 characters',
    path: references,
    body: { name: 'ref-x', 'loadbalancer-ip': '1'.repeat(46) },
    field: 'loadbalancer-ip',
    limit: 'at most 45 characters',
  },
  // Project policies
  {
    what: '51 ceiling rules',
    method: 'put',
    path: policy,
    body: { spec: { namespacedCeiling: times(51, () => ({ apiGroups: [''], resources: ['pods'], verbs: ['get'] })) } },
    field: 'spec.namespacedCeiling',
    limit: 'at most 50 rules',
  },
  {
    what: 'a ceiling rule of 51 API groups',
    method: 'put',
    path: policy,
    body: { spec: { namespacedCeiling: [{ apiGroups: groups(51), resources: ['pods'], verbs: ['get'] }] } },
    field: 'spec.namespacedCeiling.0.apiGroups',
    limit: 'at most 50 API groups',
  },
  {
    what: 'a cluster-wide ceiling rule of 101 resources',
    method: 'put',
    path: policy,
    body: {
      spec: {
        clusterWide: { allowed: true, ceiling: [{ apiGroups: [''], resources: resources(101), verbs: ['get'] }] },
      },
    },
    field: 'spec.clusterWide.ceiling.0.resources',
    limit: 'at most 100 resources',
  },
  {
    what: '501 policy clusters',
    method: 'put',
    path: policy,
    body: { spec: { clusters: { clusters: times(501, (i) => `provider-1/c${i}`) } } },
    field: 'spec.clusters.clusters',
    limit: 'at most 500 clusters',
  },
  {
    what: 'a policy cluster of 258 characters',
    method: 'put',
    path: policy,
    body: { spec: { clusters: { clusters: [`${'p'.repeat(128)}/${'c'.repeat(129)}`] } } },
    field: 'spec.clusters.clusters.0',
    limit: 'at most 257 characters',
  },
  {
    what: '101 policy providers',
    method: 'put',
    path: policy,
    body: { spec: { clusters: { providers: times(101, (i) => `p${i}`) } } },
    field: 'spec.clusters.providers',
    limit: 'at most 100 providers',
  },
  {
    what: '21 policy labels',
    method: 'put',
    path: policy,
    body: { spec: { clusters: { labels: labels(21) } } },
    field: 'spec.clusters.labels',
    limit: 'at most 20 labels',
  },
  {
    what: '21 allowed label prefixes',
    method: 'put',
    path: policy,
    body: { spec: { allowedLabelPrefixes: times(21, (i) => `p${i}.example.com/`) } },
    field: 'spec.allowedLabelPrefixes',
    limit: 'at most 20 label prefixes',
  },
];

describe('bounded input over REST (issue 14 item 2)', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('limits');
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await createDesignLogicalCloud(t, PROJECT);
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each(cases)('$what: 400 naming $field and the limit', async ({ method = 'post', path, body, field, limit }) => {
    const res = await t.http[method](path).send(body);
    expectError(res, 400);
    const details = (res.body as { details: { field: string; message: string }[] }).details;
    expect(details).toEqual([
      { field, message: typeof limit === 'string' ? expect.stringContaining(limit) : expect.stringMatching(limit) },
    ]);
    expect((res.body as { message: string }).message).toContain(field);
  });

  it('a 160 KB permission of 40,000 API groups: one 400 naming apiGroups and the limit, nothing stored', async () => {
    const body = permission({ name: 'perm-huge', apiGroups: groups(40_000) });
    expect(JSON.stringify(body).length).toBeGreaterThan(160_000);
    const res = await t.http.post(permissions).send(body);
    expectError(res, 400);
    expect((res.body as { details: unknown[] }).details).toEqual([
      { field: 'apiGroups', message: 'at most 50 API groups' },
    ]);
    expect((await t.http.get(`${permissions}/perm-huge`)).status).toBe(404);
  });

  it('40,000 labels, quota keys or kv entries: one detail each, not one per entry', async () => {
    const many = Object.fromEntries(times(40_000, (i) => [`k${i}`, 7]));
    const answers = await Promise.all([
      t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send(logicalCloud('lc-y', { labels: many })),
      t.http.post(quotas).send({ metadata: { name: 'q-y' }, spec: many }),
      t.http.post(kvPairs).send({ metadata: { name: 'kv-y' }, spec: { kv: [many] } }),
    ]);
    expect(answers.map((r) => [r.status, (r.body as { details: unknown[] }).details.length])).toEqual([
      [400, 1],
      [400, 1],
      [400, 1],
    ]);
  });

  it('at the limits, bodies are accepted', async () => {
    const verbs16 = [...API_VERBS, ...API_VERBS];
    const created = await Promise.all([
      t.http.post(permissions).send(
        permission({
          name: 'perm-max',
          apiGroups: groups(LIMITS.apiGroups),
          resources: resources(LIMITS.resources),
          verbs: verbs16,
        }),
      ),
      t.http
        .post(`/v2/projects/${PROJECT}/logical-clouds`)
        .send(logicalCloud('lc-max', { labels: labels(LIMITS.labels) })),
      t.http.post(quotas).send({ metadata: { name: 'q-max' }, spec: quotaKeys(LIMITS.quotaKeys) }),
      t.http.post(kvPairs).send({
        metadata: { name: 'kv-max' },
        spec: { kv: times(LIMITS.kvEntries, (i) => ({ [`k${i}`]: 'v'.repeat(LIMITS.kvValueLength) })) },
      }),
      t.http.post(clusters).send(cluster('c-max', { labels: labels(LIMITS.labels) })),
    ]);
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const got = await t.http.get(`${permissions}/perm-max`);
    expect([got.body.apiGroups.length, got.body.resources.length, got.body.verbs.length]).toEqual([50, 100, 16]);
  });

  it('the design bodies stay well inside the limits', async () => {
    const res = await t.http.post(`/v2/projects/${PROJECT}/logical-clouds`).send({
      ...design.logicalCloud(),
      metadata: { name: 'lc-design' },
      spec: { ...design.logicalCloud().spec, namespace: 'ns-design' },
    });
    expect(res.status).toBe(201);
  });

  it('the OpenAPI document states the limits', async () => {
    const doc = JSON.stringify((await t.http.get('/openapi.json')).body);
    expect(doc).toContain('"maxItems":50');
    expect(doc).toContain(`"maxProperties":${LIMITS.labels}`);
  });
});

describe('bounded status on the MongoDB-protocol server (issue 14 item 2)', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('limits-status');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('350 resources × 350 groups of warnings (24 MB) are stored as 20 warnings and a count', async () => {
    const store = new LifecycleStatusStore(t.mongo.db(t.databaseName));
    const placement = { reference: 'cluster-1', provider: 'provider-1', cluster: 'cluster-1' };
    const doc: LifecycleDocument = {
      _id: 'lc-id-1',
      project: 'p1',
      logicalCloud: 'lc-1',
      state: 'Instantiating',
      operation: { kind: 'apply', inProgress: true, requestedAt: new Date() },
      clusters: [{ ...placement, state: 'Pending', resources: [], warnings: [] }],
      placements: [placement],
    };
    await store.put(doc);
    const warnings = times(350 * 350, (i) => ({
      permission: 'wide',
      resource: `widgets${i % 350}`,
      group: `g${Math.floor(i / 350)}.example.com`,
      message: `permission wide: resource widgets${i % 350} is not served by group g${Math.floor(i / 350)}.example.com; ${'no API group on this cluster serves it '.repeat(4)}`,
    }));
    expect(JSON.stringify(warnings).length).toBeGreaterThan(16 * 1024 * 1024);
    await store.setClusters(doc._id, [{ ...placement, state: 'Applied', resources: [], warnings }]);
    const stored = await store.get(doc._id);
    expect(stored?.clusters[0]?.warnings).toHaveLength(LIMITS.statusWarnings);
    expect(stored?.clusters[0]?.warningsOmitted).toBe(350 * 350 - LIMITS.statusWarnings);
    // put() bounds too: the whole document written at the end of an operation.
    await store.put({
      ...doc,
      state: 'Instantiated',
      clusters: [{ ...placement, state: 'Applied', resources: [], warnings }],
    });
    expect((await store.get(doc._id))?.clusters[0]?.warningsOmitted).toBe(350 * 350 - LIMITS.statusWarnings);
  });
});
