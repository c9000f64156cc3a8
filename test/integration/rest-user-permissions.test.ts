/** User permissions (design endpoints 7–10) and EMCO's `{metadata, spec: {namespace, …}}` shape. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, fieldsOf, lcPath } from '../support/rest.js';

const permissions = `${lcPath('project-1', 'lc-1')}/user-permissions`;

describe('REST user permissions', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_permissions');
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
  });

  afterAll(async () => {
    await t.close();
  });

  it('POST (endpoint 7) answers 201 with the design body', async () => {
    const res = await t.http.post(permissions).send(design.permission3());
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${permissions}/permission-3`);
    expect(res.body).toMatchObject(design.permission3());
  });

  it('GET (endpoint 8) lists the inline permissions and the new one as {"permissions": [...]}', async () => {
    const res = await t.http.get(permissions);
    expect(res.status).toBe(200);
    const inline = design
      .logicalCloud()
      .spec.user['user-permissions'].map(({ 'permission-name': name, ...rule }) => ({ name, ...rule }));
    expect(res.body).toEqual({ permissions: [...inline, design.permission3()].map((p) => expect.objectContaining(p)) });
  });

  it('GET of one permission', async () => {
    const res = await t.http.get(`${permissions}/permission-3`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"\d+"$/);
    expect(res.body).toMatchObject({ ...design.permission3(), namespace: 'ns-1' });
  });

  it('PUT (endpoint 9) answers 200 with the updated permission', async () => {
    const res = await t.http.put(`${permissions}/permission-3`).send(design.permission3Update());
    expect(res.status).toBe(200);
    const expected = { name: 'permission-3', apiGroups: [''], resources: ['pvc'], verbs: ['list'] };
    expect(res.body).toMatchObject(expected);
    expect((await t.http.get(`${permissions}/permission-3`)).body).toMatchObject(expected);
  });

  it('accepts EMCO shape, where an empty namespace means cluster-wide', async () => {
    const body = {
      metadata: { name: 'nodes-reader' },
      spec: { namespace: '', apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] },
    };
    const created = await t.http.post(permissions).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'nodes-reader', namespace: '', resources: ['nodes'] });
    expect((await t.http.get(`${permissions}/nodes-reader`)).body.spec).toEqual(body.spec);

    const namespaced = await t.http.post(permissions).send({
      metadata: { name: 'deployer' },
      spec: { namespace: 'ns-1', apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] },
    });
    expect(namespaced.status).toBe(201);
    expect(namespaced.body.namespace).toBe('ns-1');

    const updated = await t.http
      .put(`${permissions}/nodes-reader`)
      .send({ metadata: { name: 'nodes-reader' }, spec: { ...body.spec, verbs: ['watch'] } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ namespace: '', verbs: ['watch'] });
  });

  it("refuses a namespace other than the logical cloud's", async () => {
    const res = await t.http.post(permissions).send({ ...design.permission3(), name: 'elsewhere', namespace: 'ns-9' });
    expectError(res, 400, /ns-9/);
    expect(fieldsOf(res)).toEqual(['namespace']);

    const emco = await t.http.post(permissions).send({
      metadata: { name: 'elsewhere' },
      spec: { namespace: 'ns-9', apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    });
    expectError(emco, 400, /ns-9/);
    expect(fieldsOf(emco)).toEqual(['spec.namespace']);
  });

  it('refuses a PUT whose body names another permission, naming the field of the shape used', async () => {
    const flat = await t.http.put(`${permissions}/permission-1`).send({ ...design.permission3(), name: 'other' });
    expectError(flat, 400);
    expect(fieldsOf(flat)).toEqual(['name']);

    const emco = await t.http
      .put(`${permissions}/permission-1`)
      .send({ metadata: { name: 'other' }, spec: design.permission3Update() });
    expectError(emco, 400);
    expect(fieldsOf(emco)).toEqual(['metadata.name']);
  });

  it('answers 409 for a duplicate name and 404 for a missing permission', async () => {
    expectError(await t.http.post(permissions).send(design.permission3()), 409, /permission-3 already exists/);
    expectError(await t.http.get(`${permissions}/nobody`), 404, /nobody not found in Logical Cloud lc-1/);
    expectError(await t.http.put(`${permissions}/nobody`).send(design.permission3Update()), 404, /nobody not found/);
  });

  it('DELETE (endpoint 10) answers 204 and the permission is gone', async () => {
    const res = await t.http.delete(`${permissions}/permission-3`);
    expect(res.status).toBe(204);
    expectError(await t.http.get(`${permissions}/permission-3`), 404);
    const names = (await t.http.get(permissions)).body.permissions.map((p: { name: string }) => p.name);
    expect(names).not.toContain('permission-3');
    expect(names).toContain('permission-1');
    expectError(await t.http.delete(`${permissions}/permission-3`), 404);
  });
});
