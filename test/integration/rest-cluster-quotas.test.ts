/** Cluster quotas with the design's bodies (endpoints 11–13), and the wider ResourceQuota key grammar. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, lcPath } from '../support/rest.js';

const quotas = `${lcPath('project-1', 'lc-1')}/cluster-quotas`;

describe('REST cluster quotas', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_quotas');
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
  });

  afterAll(async () => {
    await t.close();
  });

  it('POST (endpoint 11) answers 201 with the design body', async () => {
    const res = await t.http.post(quotas).send(design.quota());
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${quotas}/quota-1`);
    expect(res.body).toMatchObject(design.quota());
    expect(res.body.spec).toEqual(design.quota().spec);
  });

  it('GET (endpoint 12) answers the design body', async () => {
    const res = await t.http.get(`${quotas}/quota-1`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"\d+"$/);
    expect(res.body).toMatchObject(design.quota());
    expect(res.body.spec).toEqual(design.quota().spec);
  });

  it('PUT (endpoint 13) answers 200 with the design body, and a change is kept', async () => {
    const same = await t.http.put(`${quotas}/quota-1`).send(design.quotaUpdate());
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject(design.quota());

    const changed = design.quotaUpdate();
    changed.spec.pods = '600';
    changed.metadata.description = 'more pods';
    expect((await t.http.put(`${quotas}/quota-1`).send(changed)).status).toBe(200);
    const got = await t.http.get(`${quotas}/quota-1`);
    expect(got.body.metadata).toMatchObject({ name: 'quota-1', description: 'more pods' });
    expect(got.body.spec).toEqual({ cpu: '400', memory: '1000Gi', pods: '600' });
  });

  it('accepts the other ResourceQuota keys, kept as written', async () => {
    const spec = {
      'limits.cpu': '8',
      'requests.storage': '100Gi',
      'count/deployments.apps': '10',
      'gold.storageclass.storage.k8s.io/requests.storage': '5Gi',
      'requests.nvidia.com/gpu': '2',
    };
    const res = await t.http.post(quotas).send({ metadata: { name: 'quota-2' }, spec });
    expect(res.status).toBe(201);
    expect((await t.http.get(`${quotas}/quota-2`)).body.spec).toEqual(spec);
  });

  it('lists quotas', async () => {
    const res = await t.http.get(quotas);
    expect(res.status).toBe(200);
    expect(res.body.map((q: { metadata: { name: string } }) => q.metadata.name)).toEqual(['quota-1', 'quota-2']);
  });

  it('answers 409 for a duplicate name, 404 for a missing quota', async () => {
    expectError(await t.http.post(quotas).send(design.quota()), 409, /quota-1 already exists/);
    expectError(await t.http.get(`${quotas}/nothing`), 404, /nothing not found in Logical Cloud lc-1/);
    expectError(await t.http.put(`${quotas}/nothing`).send(design.quotaUpdate()), 404);
  });

  it('DELETE answers 204 and the quota is gone', async () => {
    expect((await t.http.delete(`${quotas}/quota-1`)).status).toBe(204);
    expectError(await t.http.get(`${quotas}/quota-1`), 404);
    expect((await t.http.get(quotas)).body.map((q: { metadata: { name: string } }) => q.metadata.name)).toEqual([
      'quota-2',
    ]);
  });
});
