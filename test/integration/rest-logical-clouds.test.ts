/** Logical clouds with the design's bodies (endpoints 1, 3, 5, 6), EMCO's userName/level, 404/409/412. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import {
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  lcPath,
  registerCluster,
} from '../support/rest.js';

const PROJECT = 'project-1';
const lcs = `/v2/projects/${PROJECT}/logical-clouds`;

/** The design's inline permissions as the GET body shows them (the namespace defaults to the logical cloud's). */
const designPermissionsShown = () =>
  design.logicalCloud().spec.user['user-permissions'].map((p) => expect.objectContaining({ ...p, namespace: 'ns-1' }));

describe('REST logical clouds', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_lc');
    await createProject(t, PROJECT);
    await createProvider(t, 'provider-1');
    await registerCluster(t, 'provider-1', 'cluster-1', 1);
  });

  afterAll(async () => {
    await t.close();
  });

  it('POST with the design body (endpoint 1) answers 201, Location and the design response fields', async () => {
    const res = await t.http.post(lcs).send(design.logicalCloud());
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${lcs}/lc-1`);
    expect(res.headers.etag).toMatch(/^"\d+"$/);
    expect(res.body).toMatchObject({
      name: 'lc-1',
      'logical-cloud-name': 'lc-1',
      namespace: 'ns-1',
      'user-name': 'user-1',
    });
  });

  it('GET (endpoint 5) shows metadata, spec, user permissions and clusters', async () => {
    const before = await t.http.get(`${lcs}/lc-1`);
    expect(before.status).toBe(200);
    expect(before.headers.etag).toMatch(/^"\d+"$/);
    expect(before.body.metadata).toEqual(design.logicalCloud().metadata);
    expect(before.body.spec).toMatchObject({
      namespace: 'ns-1',
      user: { 'user-name': 'user-1', type: 'certificate', 'user-permissions': designPermissionsShown() },
      clusters: [],
    });
    expect(before.body.spec.user['user-permissions']).toHaveLength(2);

    expect((await t.http.post(`${lcs}/lc-1/cluster-references`).send({ name: 'cluster-1' })).status).toBe(201);
    expect((await t.http.get(`${lcs}/lc-1`)).body.spec.clusters).toEqual(['cluster-1']);
  });

  it('endpoint 8 lists the inline permissions as {"permissions": [...]}', async () => {
    const res = await t.http.get(`${lcs}/lc-1/user-permissions`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      permissions: design
        .logicalCloud()
        .spec.user['user-permissions'].map(({ 'permission-name': name, ...rule }) =>
          expect.objectContaining({ name, ...rule }),
        ),
    });
  });

  it('lists logical clouds', async () => {
    const res = await t.http.get(lcs);
    expect(res.status).toBe(200);
    expect(res.headers['x-total-count']).toBe('1');
    expect(res.body).toEqual([expect.objectContaining({ name: 'lc-1', metadata: design.logicalCloud().metadata })]);
  });

  it('PUT with the design body (endpoint 3) answers 200 with its response fields', async () => {
    const { metadata, spec } = design.logicalCloud();
    const body = {
      metadata: { description: metadata.description, userData1: metadata.userData1, userData2: metadata.userData2 },
      spec,
    };
    const before = (await t.http.get(`${lcs}/lc-1`)).headers.etag;
    const res = await t.http.put(`${lcs}/lc-1`).send(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'lc-1', 'logical-cloud-name': 'lc-1', namespace: 'ns-1', user: 'user-1' });
    expect(res.headers.etag).not.toBe(before);

    body.metadata.description = 'logical cloud for the finance and payroll departments';
    body.spec.user['user-permissions'] = body.spec.user['user-permissions'].slice(0, 1);
    expect((await t.http.put(`${lcs}/lc-1`).send(body)).status).toBe(200);
    const got = await t.http.get(`${lcs}/lc-1`);
    expect(got.body.metadata.description).toBe(body.metadata.description);
    expect(
      got.body.spec.user['user-permissions'].map((p: { 'permission-name': string }) => p['permission-name']),
    ).toEqual(['permission-1']);
  });

  it('accepts EMCO clients: userName and spec.level ("1" standard, "0" admin)', async () => {
    const standard = await t.http.post(lcs).send({
      metadata: { name: 'lc-emco' },
      spec: { namespace: 'ns-2', level: '1', user: { userName: 'user-2', type: 'certificate' } },
    });
    expect(standard.status).toBe(201);
    expect(standard.body).toMatchObject({ name: 'lc-emco', namespace: 'ns-2', 'user-name': 'user-2' });
    expect((await t.http.get(`${lcs}/lc-emco`)).body.spec).toMatchObject({
      level: '1',
      namespace: 'ns-2',
      user: { 'user-name': 'user-2' },
    });

    const admin = await t.http.post(lcs).send({ metadata: { name: 'lc-admin' }, spec: { level: '0' } });
    expect(admin.status).toBe(201);
    const got = await t.http.get(`${lcs}/lc-admin`);
    expect(got.body.spec.level).toBe('0');
    expect(got.body.spec.user).toBeUndefined();
  });

  it('DELETE (endpoint 6) answers 204 and the logical cloud is gone', async () => {
    await createDesignLogicalCloud(t, PROJECT, 'lc-gone');
    const res = await t.http.delete(`${lcs}/lc-gone`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await t.http.get(`${lcs}/lc-gone`), 404, /Logical Cloud lc-gone not found in project project-1/);
  });

  it('answers 404 saying whether the project or the logical cloud is missing', async () => {
    const permissionsBefore = await t.dcm.stores.permissions.count({});
    for (const res of [
      await t.http.get(lcPath('no-project', 'lc-1')),
      await t.http.post('/v2/projects/no-project/logical-clouds').send(design.logicalCloud()),
      await t.http.get(`${lcPath('no-project', 'lc-1')}/user-permissions`),
      await t.http.post(`${lcPath('no-project', 'lc-1')}/kv-pairs`).send(design.kvPair()),
    ]) {
      expectError(res, 404, /Project no-project not found/);
    }
    // The refused create left nothing behind: no logical cloud, none of its inline permissions.
    expect(await t.dcm.stores.logicalClouds.count({ project: 'no-project' })).toBe(0);
    expect(await t.dcm.stores.permissions.count({})).toBe(permissionsBefore);
    for (const res of [
      await t.http.get(`${lcs}/no-lc`),
      await t.http.put(`${lcs}/no-lc`).send({ spec: design.logicalCloud().spec }),
      await t.http.delete(`${lcs}/no-lc`),
      await t.http.get(`${lcs}/no-lc/cluster-quotas`),
      await t.http.post(`${lcs}/no-lc/user-permissions`).send(design.permission3()),
    ]) {
      expectError(res, 404, /Logical Cloud no-lc not found in project project-1/);
    }
  });

  it('answers 409 for a duplicate name', async () => {
    expectError(await t.http.post(lcs).send(design.logicalCloud()), 409, /Logical Cloud lc-1 already exists/);
  });

  it('a PUT with a stale If-Match answers 412 and changes nothing; the current ETag succeeds', async () => {
    const { spec } = design.logicalCloud();
    const etag = (await t.http.get(`${lcs}/lc-1`)).headers.etag as string;
    const fresh = await t.http
      .put(`${lcs}/lc-1`)
      .set('If-Match', etag)
      .send({ metadata: { description: 'fresh' }, spec });
    expect(fresh.status).toBe(200);

    expectError(
      await t.http
        .put(`${lcs}/lc-1`)
        .set('If-Match', etag)
        .send({ metadata: { description: 'stale' }, spec }),
      412,
    );
    expect((await t.http.get(`${lcs}/lc-1`)).body.metadata.description).toBe('fresh');

    const current = await t.http
      .put(`${lcs}/lc-1`)
      .set('If-Match', fresh.headers.etag as string)
      .send({ metadata: { description: 'current' }, spec });
    expect(current.status).toBe(200);
    expect(current.body.metadata.description).toBe('current');
  });
});
