/** OpenAPI document and docs, health and readiness, request ids. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';

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
    expect(lcs?.post?.requestBody).toEqual(expect.objectContaining({ content: expect.objectContaining({ 'application/json': expect.anything() }) }));
    for (const path of [
      '/v2/projects/{project}',
      '/v2/cluster-providers/{provider}/clusters/{cluster}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-references/{reference}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/user-permissions/{permission}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-quotas/{quota}',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/kv-pairs/{kvPair}',
    ]) {
      expect({ path, methods: Object.keys(doc.paths[path] ?? {}).sort() }).toEqual({ path, methods: ['delete', 'get', 'put'] });
    }
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
    expect({ status: res.status, allow: res.headers.allow, name: (res.body as { name: string }).name }).toEqual({ status: 405, allow, name: 'MethodNotAllowed' });
  });

  it('a path no route has is still a 404', async () => {
    const res = await t.http.patch('/v2/projects/p1/logical-clouds/lc-1/nothing');
    expect(res.status).toBe(404);
  });
});
