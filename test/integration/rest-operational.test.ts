/** OpenAPI document and docs, health and readiness, request ids. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ClusterQuotaCreateSchema } from '../../src/features/cluster-quotas/cluster-quota.schema.js';
import { ClusterReferenceCreateSchema } from '../../src/features/cluster-references/cluster-reference.schema.js';
import { KvPairCreateSchema } from '../../src/features/kv-pairs/kv-pair.schema.js';
import { LogicalCloudCreateSchema } from '../../src/features/logical-clouds/logical-cloud.schema.js';
import {
  PermissionCreateSchema,
  PermissionUpdateSchema,
} from '../../src/features/user-permissions/user-permission.schema.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';

type Operation = {
  requestBody?: { content: Record<string, { schema: object; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, { content?: Record<string, { schema: object }>; links?: Record<string, unknown> }>;
};

describe('REST operational endpoints', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_ops');
  });

  afterAll(async () => {
    await t.close();
  });

  it('/openapi.json is an OpenAPI 3 document of every resource', async () => {
    const res = await t.http.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const lcs = doc.paths['/v2/projects/{project}/logical-clouds'];
    expect(Object.keys(lcs ?? {}).sort()).toEqual(['get', 'post']);
    expect(lcs?.post?.requestBody).toEqual(
      expect.objectContaining({ content: expect.objectContaining({ 'application/json': expect.anything() }) }),
    );
    for (const path of [
      '/v2/projects/{project}',
      '/v2/cluster-providers/{provider}/clusters/{cluster}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-references/{reference}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/user-permissions/{permission}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-quotas/{quota}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/kv-pairs/{kvPair}',
    ]) {
      expect({ path, methods: Object.keys(doc.paths[path] ?? {}).sort() }).toEqual({
        path,
        methods: ['delete', 'get', 'put'],
      });
    }
  });

  it('/openapi.json validates as OpenAPI 3.1; every operation documents its 2xx bodies and the error body', async () => {
    const doc = (await t.http.get('/openapi.json')).body as {
      openapi: string;
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, object> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    // Schemas are inline and self-contained (a $ref other than the error body's would resolve against the document).
    expect(JSON.stringify(doc)).not.toMatch(/"\$defs"|"\$schema"/);
    expect(doc.components.schemas.Error).toEqual(expect.objectContaining({ required: ['name', 'message', 'details'] }));
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(40);
    for (const { path, method, op } of operations) {
      const success = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
      expect({ path, method, success: success.length > 0 }).toEqual({ path, method, success: true });
      for (const [status, response] of success) {
        if (status === '204') continue;
        expect({ path, method, status, documented: Object.keys(response.content ?? {}).length > 0 }).toEqual({
          path,
          method,
          status,
          documented: true,
        });
      }
      for (const [status, response] of Object.entries(op.responses).filter(
        ([s]) => s === 'default' || /^[45]/.test(s),
      )) {
        expect({ path, method, status, schema: response.content?.['application/json']?.schema }).toEqual({
          path,
          method,
          status,
          schema: { $ref: '#/components/schemas/Error' },
        });
      }
    }
  });

  it('documents the rules the refines enforce (patterns, lengths, enums) and the quota key grammar', async () => {
    const doc = (await t.http.get('/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
    const body = (path: string, method = 'post') =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON Schema walked by hand
      doc.paths[path]![method]!.requestBody!.content['application/json']!.schema as Record<string, any>;
    const lc = body('/v2/projects/{project}/logical-clouds');
    expect(lc.properties.spec.properties.namespace).toEqual(
      expect.objectContaining({ pattern: expect.any(String), maxLength: 63 }),
    );
    expect(lc.properties.spec.properties.labels.propertyNames.pattern).toEqual(expect.any(String));
    const user = lc.properties.spec.properties.user;
    // The user-name pattern refuses what the validator refuses (the system: prefix) and takes ordinary names.
    const userName = new RegExp(user.properties['user-name'].pattern as string);
    expect(['user-1', 'alice', 'sys', 'system'].map((n) => userName.test(n))).toEqual([true, true, true, true]);
    expect(['system:admin', ' user', 'a,O=system:masters'].map((n) => userName.test(n))).toEqual([false, false, false]);
    expect(user.properties.type.enum).toEqual(['certificate', 'token', 'Token']);
    const rule = user.properties['user-permissions'].items.properties;
    expect(rule.apiGroups.items.pattern).toEqual(expect.any(String));
    expect(rule.resources.items.pattern).toEqual(expect.any(String));
    expect(rule.verbs.items.enum).toContain('watch');
    const quota = body('/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-quotas').properties.spec;
    expect(quota).toEqual(
      expect.objectContaining({ minProperties: 1, maxProperties: 64, additionalProperties: false }),
    );
    const [countKey, amountKey] = Object.keys(quota.patternProperties);
    // The patterns mean what the DCM accepts, read by JavaScript (u flag, as JSON Schema says) and by Python's re alike.
    const matches = (pattern: string, s: string) => new RegExp(pattern, 'u').test(s);
    for (const key of ['pods', 'count/deployments.apps', 'gold.storageclass.storage.k8s.io/persistentvolumeclaims'])
      expect(matches(countKey!, key)).toBe(true);
    for (const key of [
      'cpu',
      'requests.memory',
      'requests.nvidia.com/gpu',
      'limits.hugepages-2Mi',
      'gold.storageclass.storage.k8s.io/requests.storage',
    ])
      expect(matches(amountKey!, key)).toBe(true);
    for (const key of ['cpus', 'requests.kubernetes.io/x', 'requests.hugepages-0', 'count/', 'limits.nvidia.com/gpu']) {
      expect({ key, count: matches(countKey!, key), amount: matches(amountKey!, key) }).toEqual({
        key,
        count: false,
        amount: false,
      });
    }
    // Every path parameter is a DCM name.
    const get = doc.paths['/v2/projects/{project}']!.get as unknown as {
      parameters: { schema: { pattern?: string } }[];
    };
    expect(get.parameters[0]!.schema.pattern).toEqual(expect.any(String));
  });

  it("the request examples are the design's bodies, and valid", async () => {
    const doc = (await t.http.get('/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
    const examples = (path: string, method = 'post') =>
      Object.values(doc.paths[path]![method]!.requestBody!.content['application/json']!.examples ?? {}).map(
        (e) => e.value,
      );
    const LC = '/v2/projects/{project}/logical-clouds/{logicalCloud}';
    expect(examples('/v2/projects/{project}/logical-clouds')).toContainEqual(design.logicalCloud());
    expect(examples(`${LC}/user-permissions`)).toContainEqual(design.permission3());
    expect(examples(`${LC}/user-permissions/{permission}`, 'put')).toContainEqual(design.permission3Update());
    expect(examples(`${LC}/cluster-quotas`)).toContainEqual(design.quota());
    expect(examples(`${LC}/kv-pairs`)).toContainEqual(design.kvPair());
    for (const value of examples('/v2/projects/{project}/logical-clouds'))
      expect(LogicalCloudCreateSchema.safeParse(value).success).toBe(true);
    for (const value of examples(`${LC}/user-permissions`))
      expect(PermissionCreateSchema.safeParse(value).success).toBe(true);
    for (const value of examples(`${LC}/user-permissions/{permission}`, 'put'))
      expect(PermissionUpdateSchema.safeParse(value).success).toBe(true);
    for (const value of examples(`${LC}/cluster-quotas`))
      expect(ClusterQuotaCreateSchema.safeParse(value).success).toBe(true);
    for (const value of examples(`${LC}/kv-pairs`)) expect(KvPairCreateSchema.safeParse(value).success).toBe(true);
    for (const value of examples(`${LC}/cluster-references`))
      expect(ClusterReferenceCreateSchema.safeParse(value).success).toBe(true);
  });

  it('/docs serves browsable HTML', async () => {
    const res = await t.http.get('/docs/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/swagger-ui/i);
  });

  it('/healthz and /readyz answer 200', async () => {
    const health = await t.http.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('echoes a given X-Request-Id and generates one otherwise', async () => {
    const given = await t.http.get('/v2/projects').set('X-Request-Id', 'req-42.abc');
    expect(given.headers['x-request-id']).toBe('req-42.abc');

    const first = (await t.http.get('/v2/projects')).headers['x-request-id'];
    const second = (await t.http.get('/v2/projects/nobody')).headers['x-request-id'];
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).not.toBe(first);
  });

  it('replaces a request id that is not a safe token', async () => {
    const res = await t.http.get('/healthz').set('X-Request-Id', 'bad id\twith spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('methods a path does not have', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_methods');
  });

  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['patch', '/v2/projects/p1', 'DELETE, GET, HEAD, PUT'],
    ['put', '/v2/projects', 'GET, HEAD, POST'],
    ['delete', '/v2/projects/p1/logical-clouds/lc-1/apply', 'POST'],
    ['get', '/v2/projects/p1/logical-clouds/lc-1/terminate', 'POST'],
    ['post', '/v2/projects/p1/logical-clouds/lc-1/status', 'GET, HEAD'],
    ['post', '/v2/Projects/p1/Policy/', 'DELETE, GET, HEAD, PUT'],
  ] as const)('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await t.http[method](path);
    expect({ status: res.status, allow: res.headers.allow, name: (res.body as { name: string }).name }).toEqual({
      status: 405,
      allow,
      name: 'MethodNotAllowed',
    });
  });

  it('a method the path does not have answers 405 before its body is read (schemathesis: TRACE with a body was a 400)', async () => {
    const res = await t.http
      .trace('/v2/projects/p1/logical-clouds/lc-1/apply')
      .set('content-type', 'application/json')
      .send('null-ish, not JSON');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('a path no route has is still a 404', async () => {
    const res = await t.http.patch('/v2/projects/p1/logical-clouds/lc-1/nothing');
    expect(res.status).toBe(404);
  });
});
