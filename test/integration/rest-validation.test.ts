/**
 * Validation: one failing example per rule, each a 400 naming the offending field; bad
 * requests of other kinds (JSON, content type, size, URL) get their 4xx, never a 500,
 * and no error body ever shows a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, fieldsOf, lcPath } from '../support/rest.js';

const lcs = '/v2/projects/project-1/logical-clouds';
const lc1 = lcPath('project-1', 'lc-1');

type Body = Record<string, unknown>;

/** The design's logical cloud with its spec.user (or spec) changed. */
function logicalCloudWith(change: { user?: Body; spec?: Body }): Body {
  const body = design.logicalCloud();
  return {
    metadata: { name: 'lc-new' },
    spec: { ...body.spec, ...change.spec, user: { ...body.spec.user, ...change.user } },
  };
}

interface Case {
  rule: string;
  path: string;
  body: unknown;
  fields: string[];
  message?: RegExp;
}

const cases: Case[] = [
  {
    rule: 'a name breaking the EMCO rule',
    path: '/v2/projects',
    body: { metadata: { name: 'bad-' } },
    fields: ['metadata.name'],
  },
  {
    rule: 'a name over 128 characters',
    path: '/v2/projects',
    body: { metadata: { name: 'a'.repeat(129) } },
    fields: ['metadata.name'],
  },
  { rule: 'a missing metadata', path: '/v2/projects', body: {}, fields: ['metadata'] },
  {
    rule: 'an unknown top-level field',
    path: '/v2/projects',
    body: { metadata: { name: 'p' }, colour: 'blue' },
    fields: ['colour'],
  },
  {
    rule: 'an unknown field in a logical cloud',
    path: lcs,
    body: { ...logicalCloudWith({}), status: 'x' },
    fields: ['status'],
  },
  {
    rule: 'a namespace that is not a DNS-1123 label',
    path: lcs,
    body: logicalCloudWith({ spec: { namespace: 'Ns_1' } }),
    fields: ['spec.namespace'],
  },
  // Reserved namespaces (kube-system, …) are a 409 naming their owner: test/integration/tenant-boundary.test.ts.
  {
    rule: 'a user name reserved by Kubernetes',
    path: lcs,
    body: logicalCloudWith({ user: { 'user-name': 'system:admin' } }),
    fields: ['spec.user.user-name'],
  },
  {
    rule: 'a user name that would forge a certificate subject',
    path: lcs,
    body: logicalCloudWith({ user: { 'user-name': 'eve,O=system:masters' } }),
    fields: ['spec.user.user-name'],
  },
  {
    rule: 'an invalid userName (EMCO spelling)',
    path: lcs,
    body: { metadata: { name: 'lc-new' }, spec: { namespace: 'ns-2', user: { userName: ' padded ' } } },
    fields: ['spec.user.userName'],
  },
  {
    rule: 'user type UNPW (token users are supported: test/integration/token-users.test.ts)',
    path: lcs,
    body: logicalCloudWith({ user: { type: 'UNPW' } }),
    fields: ['spec.user.type'],
    message: /removed basic authentication/,
  },
  {
    rule: 'a level other than "0" or "1"',
    path: lcs,
    body: logicalCloudWith({ spec: { level: '2' } }),
    fields: ['spec.level'],
  },
  {
    rule: 'a bad verb in an inline permission',
    path: lcs,
    body: logicalCloudWith({
      user: { 'user-permissions': [{ 'permission-name': 'p', apiGroups: [''], resources: ['pods'], verbs: ['fly'] }] },
    }),
    fields: ['spec.user.user-permissions.0.verbs.0'],
  },
  {
    rule: 'two offending fields at once, both named',
    path: lcs,
    body: logicalCloudWith({ spec: { namespace: 'NS' }, user: { 'user-name': 'system:x' } }),
    fields: ['spec.namespace', 'spec.user.user-name'],
  },
  {
    rule: 'two inline permissions of one name',
    path: lcs,
    body: logicalCloudWith({
      user: {
        'user-permissions': [
          design.logicalCloud().spec.user['user-permissions'][0],
          design.logicalCloud().spec.user['user-permissions'][0],
        ],
      },
    }),
    fields: ['spec.user.user-permissions.1.permission-name'],
  },
  {
    rule: 'an inline permission in another namespace',
    path: lcs,
    body: logicalCloudWith({
      user: {
        'user-permissions': [
          { 'permission-name': 'p', namespace: 'ns-9', apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        ],
      },
    }),
    fields: ['spec.user.user-permissions.0.namespace'],
  },
  {
    rule: 'a bad verb',
    path: `${lc1}/user-permissions`,
    body: { ...design.permission3(), verbs: ['fly'] },
    fields: ['verbs.0'],
  },
  {
    rule: 'empty verbs',
    path: `${lc1}/user-permissions`,
    body: { ...design.permission3(), verbs: [] },
    fields: ['verbs'],
  },
  {
    rule: 'a resource with its group in it',
    path: `${lc1}/user-permissions`,
    body: { ...design.permission3(), resources: ['deployments.apps'] },
    fields: ['resources.0'],
  },
  {
    rule: 'empty verbs in EMCO shape',
    path: `${lc1}/user-permissions`,
    body: { metadata: { name: 'p' }, spec: { apiGroups: [''], resources: ['pods'], verbs: [] } },
    fields: ['spec.verbs'],
  },
  {
    rule: 'an unknown field in a permission',
    path: `${lc1}/user-permissions`,
    body: { ...design.permission3(), colour: 'x' },
    fields: ['colour'],
  },
  {
    rule: 'a quota value that is not a quantity',
    path: `${lc1}/cluster-quotas`,
    body: { metadata: { name: 'q' }, spec: { cpu: '400', memory: 'lots' } },
    fields: ['spec.memory'],
    message: /lots/,
  },
  {
    rule: 'an unknown quota key',
    path: `${lc1}/cluster-quotas`,
    body: { metadata: { name: 'q' }, spec: { gpus: '2' } },
    fields: ['spec.gpus'],
  },
  {
    rule: 'a quota key named like an Object.prototype property',
    path: `${lc1}/cluster-quotas`,
    body: { metadata: { name: 'q' }, spec: { constructor: '1' } },
    fields: ['spec.constructor'],
  },
  {
    rule: 'a short and a long key for one limit',
    path: `${lc1}/cluster-quotas`,
    body: { metadata: { name: 'q' }, spec: { cpu: '1', 'requests.cpu': '2' } },
    fields: ['spec.requests.cpu'],
  },
  {
    rule: 'a fractional object count',
    path: `${lc1}/cluster-quotas`,
    body: { metadata: { name: 'q' }, spec: { pods: '1.5' } },
    fields: ['spec.pods'],
  },
  {
    rule: 'a kv entry with two keys',
    path: `${lc1}/kv-pairs`,
    body: { metadata: { name: 'kv' }, spec: { kv: [{ key1: 'val1', key2: 'val2' }] } },
    fields: ['spec.kv.0'],
  },
  {
    rule: 'a cluster reference with a bad load balancer IP',
    path: `${lc1}/cluster-references`,
    body: { metadata: { name: 'r' }, spec: { cluster: 'c', 'loadbalancer-ip': '10.0.0.300' } },
    fields: ['spec.loadbalancer-ip'],
  },
];

describe('REST validation', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_validation');
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
  });

  afterAll(async () => {
    await t.close();
  });

  it.each(cases)('400 for $rule, naming $fields', async ({ path, body, fields, message }) => {
    const res = await t.http.post(path).send(body as object);
    expectError(res, 400, message);
    expect(fieldsOf(res)).toEqual(fields);
  });

  it('nothing invalid was stored', async () => {
    expect((await t.http.get('/v2/projects')).body).toHaveLength(1);
    expect((await t.http.get(lcs)).body).toHaveLength(1);
    expect((await t.http.get(`${lc1}/user-permissions`)).body.permissions).toHaveLength(2);
    expect((await t.http.get(`${lc1}/cluster-quotas`)).body).toHaveLength(0);
    expect((await t.http.get(`${lc1}/kv-pairs`)).body).toHaveLength(0);
  });

  it('a PUT is validated as strictly (naming the field)', async () => {
    const res = await t.http.put(`${lc1}/kv-pairs/kv`).send({ spec: { kv: [{}] } });
    expectError(res, 400);
    expect(fieldsOf(res)).toEqual(['spec.kv.0']);
  });

  it('a cluster reference to an unregistered cluster is a 404 with a clear message', async () => {
    expectError(
      await t.http.post(`${lc1}/cluster-references`).send({ name: 'cluster-1' }),
      404,
      /Cluster cluster-1 is not registered/,
    );
  });

  it('malformed JSON is a 400, not a 500', async () => {
    const res = await t.http
      .post('/v2/projects')
      .set('Content-Type', 'application/json')
      .send('{"metadata": {"name": "p",}');
    expectError(res, 400, /not valid JSON/);
  });

  it('a JSON body that is not an object is a 400', async () => {
    for (const body of ['[]', '"text"', '42']) {
      expectError(await t.http.post('/v2/projects').set('Content-Type', 'application/json').send(body), 400);
    }
  });

  it('a body labelled form or text that is not JSON is a 400; a type that cannot be JSON is a 415', async () => {
    expectError(
      await t.http.post('/v2/projects').set('Content-Type', 'text/plain').send('metadata.name=p'),
      400,
      /not valid JSON/,
    );
    expectError(await t.http.post('/v2/projects').type('form').send({ metadata: 'x' }), 400, /not valid JSON/);
    expectError(
      await t.http.post('/v2/projects').set('Content-Type', 'application/xml').send('<project/>'),
      415,
      /must be JSON/,
    );
  });

  it('a body over 1mb is a 413', async () => {
    const body = { metadata: { name: 'kv-big' }, spec: { kv: [{ blob: 'x'.repeat(1024 * 1024 + 1) }] } };
    expectError(await t.http.post(`${lc1}/kv-pairs`).send(body), 413, /too large/);
  });

  it('an If-Match that is not an ETag is a 400 naming it', async () => {
    const res = await t.http.put('/v2/projects/project-1').set('If-Match', 'yesterday').send({ metadata: {} });
    expectError(res, 400);
    expect(fieldsOf(res)).toEqual(['If-Match']);
  });

  it('bad query parameters and bad URL encoding are 400s, not 500s', async () => {
    const responses: Response[] = [
      await t.http.get('/v2/projects?limit=many'),
      await t.http.get('/v2/projects/%E0%A4%A'),
    ];
    for (const res of responses) expectError(res, 400);
  });

  it('an unknown route is a 404 in the same error shape', async () => {
    expectError(await t.http.get('/v2/planets'), 404, /no route/);
  });

  it('a NUL character in the path, the query or a body is a 400 naming where, and nothing is stored', async () => {
    expectError(await t.http.get('/v2/projects/%00'), 400, /path: contains a NUL character/);
    expectError(await t.http.get(`${lcs}?limit=1&x=%00`), 400, /query: contains a NUL character/);
    const res = await t.http.post('/v2/projects').send({ metadata: { name: 'nul-project', description: 'a\u0000b' } });
    expectError(res, 400, /metadata\.description: contains a NUL character/);
    expect(fieldsOf(res)).toEqual(['metadata.description']);
    const labelled = await t.http.post(lcs).send(logicalCloudWith({ spec: { labels: { 'te\u0000am': 'x' } } }));
    expectError(labelled, 400, /spec\.labels\.te\\u0000am: contains a NUL character/);
    expect(String(labelled.body.message)).not.toContain(String.fromCharCode(0));
    await t.http.get('/v2/projects/nul-project').expect(404);
  });
});
