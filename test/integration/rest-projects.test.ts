/** Projects: CRUD, 404/409, deleting a project with logical clouds, ETag / If-Match. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, lcPath } from '../support/rest.js';

describe('REST projects', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_projects');
  });

  afterAll(async () => {
    await t.close();
  });

  it('creates, reads, lists, updates and deletes a project', async () => {
    const metadata = { name: 'project-1', description: 'finance', userData1: 'u1', userData2: 'u2' };
    const created = await t.http.post('/v2/projects').send({ metadata });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/v2/projects/project-1');
    expect(created.body).toEqual({ metadata });

    const got = await t.http.get('/v2/projects/project-1');
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ metadata });
    expect(got.headers.etag).toMatch(/^"\d+"$/);

    const listed = await t.http.get('/v2/projects');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ metadata }]);

    const changed = { ...metadata, description: 'finance and payroll' };
    const updated = await t.http
      .put('/v2/projects/project-1')
      .send({ metadata: { description: changed.description, userData1: 'u1', userData2: 'u2' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ metadata: changed });
    expect((await t.http.get('/v2/projects/project-1')).body).toEqual({ metadata: changed });

    const deleted = await t.http.delete('/v2/projects/project-1');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectError(await t.http.get('/v2/projects/project-1'), 404, /Project project-1 not found/);
  });

  it('answers 404 for a project that does not exist, on every item method', async () => {
    expectError(await t.http.get('/v2/projects/nobody'), 404, /Project nobody not found/);
    expectError(await t.http.put('/v2/projects/nobody').send({ metadata: {} }), 404, /Project nobody not found/);
    expectError(await t.http.delete('/v2/projects/nobody'), 404, /Project nobody not found/);
    expectError(await t.http.get('/v2/projects/nobody/logical-clouds'), 404, /Project nobody not found/);
  });

  it('answers 409 for a duplicate name', async () => {
    await createProject(t, 'dup');
    expectError(await t.http.post('/v2/projects').send({ metadata: { name: 'dup' } }), 409, /dup already exists/);
  });

  it('refuses a PUT whose body names another project', async () => {
    await createProject(t, 'renamed');
    const res = await t.http.put('/v2/projects/renamed').send({ metadata: { name: 'other' } });
    expectError(res, 400);
    expect(res.body.details).toEqual([expect.objectContaining({ field: 'metadata.name' })]);
  });

  it('refuses to delete a project that still has logical clouds (409), then deletes it once they are gone', async () => {
    await createProject(t, 'busy');
    await createDesignLogicalCloud(t, 'busy');
    expectError(await t.http.delete('/v2/projects/busy'), 409, /still has logical clouds/);
    expect((await t.http.get('/v2/projects/busy')).status).toBe(200);

    expect((await t.http.delete(lcPath('busy', 'lc-1'))).status).toBe(204);
    expect((await t.http.delete('/v2/projects/busy')).status).toBe(204);
  });

  it('gives an ETag on GET; a PUT with a stale If-Match answers 412, the current one succeeds', async () => {
    await createProject(t, 'etag');
    const first = (await t.http.get('/v2/projects/etag')).headers.etag as string;

    const put1 = await t.http
      .put('/v2/projects/etag')
      .set('If-Match', first)
      .send({ metadata: { description: 'one' } });
    expect(put1.status).toBe(200);
    const second = put1.headers.etag as string;
    expect(second).toMatch(/^"\d+"$/);
    expect(second).not.toBe(first);
    expect((await t.http.get('/v2/projects/etag')).headers.etag).toBe(second);

    expectError(
      await t.http
        .put('/v2/projects/etag')
        .set('If-Match', first)
        .send({ metadata: { description: 'stale' } }),
      412,
    );
    expect((await t.http.get('/v2/projects/etag')).body.metadata.description).toBe('one');

    const put2 = await t.http
      .put('/v2/projects/etag')
      .set('If-Match', second)
      .send({ metadata: { description: 'two' } });
    expect(put2.status).toBe(200);
    expect(put2.body.metadata.description).toBe('two');
  });
});
