/**
 * What the schemathesis run (npm run schemathesis) found, one test each: a PUT without a body, an
 * operation's non-object body, a bare JSON value's error message, and the document matching what the
 * DCM accepts (user-name pattern without lookarounds, loadbalancer-ip, kubeconfig as YAML, PUT rules).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { kubernetesUserName } from '../../src/validation/kubernetes-user-name.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, expectError, fieldsOf, lcPath, setUpProjectAndClusters } from '../support/rest.js';

const lc1 = lcPath('project-1', 'lc-1');

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; anyOf?: Schema[]; pattern?: string };

describe('schemathesis findings', () => {
  let t: TestDcm;
  let doc: {
    paths: Record<
      string,
      Record<
        string,
        {
          description?: string;
          requestBody?: { content: Record<string, { schema: Schema }> };
          responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
        }
      >
    >;
  };

  beforeAll(async () => {
    t = await startTestDcm('rest_schemathesis_findings');
    await setUpProjectAndClusters(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
    expect(
      (await t.http.post(`${lc1}/cluster-references`).send({ name: 'cluster-1', 'cluster-provider': 'provider-1' }))
        .status,
    ).toBe(201);
    doc = (await t.http.get('/openapi.json')).body;
  });

  afterAll(async () => {
    await t.close();
  });

  it('a PUT without a body is a 400 naming the body (it was applied as an empty update)', async () => {
    const res = await t.http.put(`${lc1}/cluster-references/cluster-1`);
    expectError(res, 400, /body is required/);
    expect(fieldsOf(res)).toEqual(['(body)']);
    expect((await t.http.get(`${lc1}/cluster-references/cluster-1`)).body['cluster-provider']).toBe('provider-1');
  });

  it('a POST create without a body is a 400 naming the body', async () => {
    const res = await t.http.post('/v2/projects');
    expectError(res, 400, /body is required/);
    expect(fieldsOf(res)).toEqual(['(body)']);
  });

  it('an operation takes no body, {} or any object; an array is a 400 (it was ignored)', async () => {
    const array = await t.http.post(`${lc1}/stop`).set('content-type', 'application/json').send('[1]');
    expectError(array, 400);
    expect(fieldsOf(array)).toEqual(['(body)']);
    for (const body of [undefined, {}, { metadata: { name: '' } }]) {
      const req = t.http.post(`${lc1}/stop`);
      const res = body === undefined ? await req : await req.send(body);
      expectError(res, 409, /nothing to stop/);
    }
  });

  it('a bare JSON value is refused as such, not as "not valid JSON"', async () => {
    for (const body of ['5', 'null', '"x"', 'false']) {
      const res = await t.http.post(`${lc1}/stop`).set('content-type', 'application/json').send(body);
      expectError(res, 400, /not a bare JSON value/);
    }
    expectError(
      await t.http.post(`${lc1}/stop`).set('content-type', 'application/json').send('{'),
      400,
      /not valid JSON/,
    );
  });

  it('documents operation bodies as objects', () => {
    const schema =
      doc.paths['/v2/projects/{project}/logical-clouds/{logicalCloud}/apply']!.post!.requestBody!.content[
        'application/json'
      ]!.schema;
    expect(schema.type).toBe('object');
  });

  it('documents the user name with a pattern without lookarounds whose names the DCM accepts', () => {
    const spec =
      doc.paths['/v2/projects/{project}/logical-clouds']!.post!.requestBody!.content['application/json']!.schema
        .properties!.spec!;
    const pattern = spec.properties!.user!.properties!['user-name']!.pattern!;
    expect(pattern).not.toMatch(/\(\?[=!<]/);
    expect(pattern.length).toBeLessThan(8000);
    const re = new RegExp(pattern);
    for (const name of ['alice', 'a b', 'sys', 'system', 'systemd', 'système', 'José', 'ユーザー', '用户', 'a#']) {
      expect(re.test(name)).toBe(true);
      expect(kubernetesUserName.safeParse(name).success).toBe(true);
    }
    for (const name of ['system:admin', 'system:', ' a', 'a ', '#a', 'a,b', 'a/b', 'a\u200bb', 'a\u0000b']) {
      expect(re.test(name)).toBe(false);
      expect(kubernetesUserName.safeParse(name).success).toBe(false);
    }
    // Every character the pattern allows inside a name is accepted by the validator there.
    const inside = /(\[[^\]]+\])\*/.exec(pattern)![1]!;
    const insideRe = new RegExp(`^${inside}$`);
    for (let cp = 0; cp < 0x10000; cp++) {
      const c = String.fromCharCode(cp);
      if (insideRe.test(c)) expect([cp, kubernetesUserName.safeParse(`a${c}a`).success]).toEqual([cp, true]);
    }
  });

  it('documents loadbalancer-ip as an address or ""; the DCM refuses what the pattern refuses', async () => {
    const body =
      doc.paths['/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-references/{reference}']!.put!
        .requestBody!.content['application/json']!.schema;
    const re = new RegExp(body.anyOf![1]!.properties!.spec!.properties!.loadBalancerIP!.pattern!);
    for (const ip of ['', '10.0.0.1', '::1', 'fe80::1:2']) expect(re.test(ip)).toBe(true);
    for (const ip of ['0000000000', '10.0.0.256', 'x']) {
      expect(re.test(ip)).toBe(false);
      const res = await t.http
        .put(`${lc1}/cluster-references/cluster-1`)
        .send({ metadata: { name: 'cluster-1' }, spec: { loadBalancerIP: ip } });
      expectError(res, 400);
    }
  });

  it('documents the YAML kubeconfig as the mapping it is (as JSON), and each PUT the name rule', () => {
    for (const path of [
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/kubeconfig',
      '/v2/projects/{project}/logical-clouds/{logicalCloud}/cluster-references/{reference}/kubeconfig',
    ]) {
      const content = doc.paths[path]!.get!.responses['200']!.content!;
      expect(content['application/yaml']!.schema).toEqual(content['application/json']!.schema);
      expect(content['application/yaml']!.schema.type).toBe('object');
    }
    for (const [path, ops] of Object.entries(doc.paths))
      if (ops.put && path.endsWith('}'))
        expect([path, ops.put.description]).toEqual([path, expect.stringMatching(/must be the name in the path/)]);
  });
});
