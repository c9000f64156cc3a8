/** Cluster references: the design's `{"name": …}` (endpoint 4) and EMCO's kebab-case and camelCase shapes. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import {
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  fieldsOf,
  lcPath,
  registerCluster,
} from '../support/rest.js';

const references = `${lcPath('project-1', 'lc-1')}/cluster-references`;

describe('REST cluster references', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_references');
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
    await createProvider(t, 'provider-1');
    await createProvider(t, 'provider-2');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
    await registerCluster(t, 'provider-1', 'cluster-2', 2);
    await registerCluster(t, 'provider-2', 'edge-a', 2);
    await registerCluster(t, 'provider-2', 'twin', 1);
    await registerCluster(t, 'provider-1', 'twin', 2);
  });

  afterAll(async () => {
    await t.close();
  });

  it('POST {"name": "cluster-1"} (endpoint 4, with the design\'s trailing slash) references the registered cluster', async () => {
    const res = await t.http.post(`${references}/`).send({ name: 'cluster-1' });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${references}/cluster-1`);
    expect(res.body).toMatchObject({
      name: 'cluster-1',
      'cluster-name': 'cluster-1',
      'cluster-provider': 'provider-1',
    });
  });

  it("accepts EMCO's camelCase {metadata, spec: {clusterProvider, cluster}}", async () => {
    const res = await t.http
      .post(references)
      .send({ metadata: { name: 'ref-2' }, spec: { clusterProvider: 'provider-1', cluster: 'cluster-2' } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'ref-2', 'cluster-name': 'cluster-2', 'cluster-provider': 'provider-1' });
  });

  it('accepts the kebab-case {metadata, spec: {cluster-provider, cluster-name, loadbalancer-ip}}', async () => {
    const spec = { 'cluster-provider': 'provider-2', 'cluster-name': 'edge-a', 'loadbalancer-ip': '10.0.0.1' };
    const res = await t.http.post(references).send({ metadata: { name: 'ref-3', description: 'edge' }, spec });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'ref-3', spec, metadata: { name: 'ref-3', description: 'edge' } });
  });

  it('GET one and the list; the logical cloud lists the clusters it references', async () => {
    const one = await t.http.get(`${references}/ref-2`);
    expect(one.status).toBe(200);
    expect(one.headers.etag).toMatch(/^"\d+"$/);
    expect(one.body).toMatchObject({ name: 'ref-2', 'cluster-name': 'cluster-2' });

    const list = await t.http.get(references);
    expect(list.status).toBe(200);
    expect(list.body.map((r: { name: string }) => r.name)).toEqual(['cluster-1', 'ref-2', 'ref-3']);
    expect((await t.http.get(lcPath('project-1', 'lc-1'))).body.spec.clusters).toEqual([
      'cluster-1',
      'cluster-2',
      'edge-a',
    ]);
  });

  it('PUT answers 200 with the change', async () => {
    const spec = { 'cluster-provider': 'provider-2', 'cluster-name': 'edge-a', 'loadbalancer-ip': '10.0.0.2' };
    const res = await t.http.put(`${references}/ref-3`).send({ metadata: { name: 'ref-3' }, spec });
    expect(res.status).toBe(200);
    expect(res.body['loadbalancer-ip']).toBe('10.0.0.2');
    expect((await t.http.get(`${references}/ref-3`)).body.spec).toEqual(spec);
  });

  it('refuses a PUT whose body names another reference, naming the field of the shape used', async () => {
    const design = await t.http.put(`${references}/cluster-1`).send({ name: 'other' });
    expectError(design, 400);
    expect(fieldsOf(design)).toEqual(['name']);

    const emco = await t.http
      .put(`${references}/ref-3`)
      .send({ metadata: { name: 'other' }, spec: { clusterProvider: 'provider-2', cluster: 'edge-a' } });
    expectError(emco, 400);
    expect(fieldsOf(emco)).toEqual(['metadata.name']);
  });

  it('a reference to an unregistered cluster answers 404 saying so', async () => {
    expectError(await t.http.post(references).send({ name: 'nowhere' }), 404, /Cluster nowhere is not registered/);
    expectError(
      await t.http
        .post(references)
        .send({ metadata: { name: 'ref-x' }, spec: { clusterProvider: 'provider-1', cluster: 'edge-a' } }),
      404,
      /Cluster edge-a not found in cluster provider provider-1/,
    );
    expect((await t.http.get(references)).body).toHaveLength(3);
  });

  it('answers 409 for an ambiguous cluster name, a cluster referenced twice, and a duplicate name', async () => {
    expectError(await t.http.post(references).send({ name: 'twin' }), 409, /several cluster providers/);
    expectError(
      await t.http
        .post(references)
        .send({ metadata: { name: 'again' }, spec: { clusterProvider: 'provider-1', cluster: 'cluster-1' } }),
      409,
      /already referenced by cluster-1/,
    );
    expectError(
      await t.http
        .post(references)
        .send({ metadata: { name: 'ref-2' }, spec: { clusterProvider: 'provider-2', cluster: 'twin' } }),
      409,
      /ref-2 already exists/,
    );
  });

  it('DELETE answers 204 and the reference is gone', async () => {
    expect((await t.http.delete(`${references}/ref-2`)).status).toBe(204);
    expectError(await t.http.get(`${references}/ref-2`), 404, /ref-2 not found in Logical Cloud lc-1/);
    expect((await t.http.get(lcPath('project-1', 'lc-1'))).body.spec.clusters).toEqual(['cluster-1', 'edge-a']);
  });
});
