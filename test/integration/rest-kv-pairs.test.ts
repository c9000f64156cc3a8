/** Key-value pairs with the design's bodies (endpoints 16–19). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, lcPath } from '../support/rest.js';

const kvPairs = `${lcPath('project-1', 'lc-1')}/kv-pairs`;

describe('REST kv-pairs', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_kv');
    await createProject(t, 'project-1');
    await createDesignLogicalCloud(t, 'project-1');
  });

  afterAll(async () => {
    await t.close();
  });

  it('POST (endpoint 16) answers 201 with the design body', async () => {
    const res = await t.http.post(kvPairs).send(design.kvPair());
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`${kvPairs}/kv-1`);
    expect(res.body).toEqual(design.kvPair());
  });

  it('GET (endpoint 18) answers the design body, in the order it was given', async () => {
    const res = await t.http.get(`${kvPairs}/kv-1`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"\d+"$/);
    expect(res.body).toEqual(design.kvPair());
  });

  it('PUT (endpoint 17) answers 200 with the new values', async () => {
    const res = await t.http.put(`${kvPairs}/kv-1`).send(design.kvPairUpdate());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(design.kvPairUpdate());
    expect(res.body.metadata.name).toBe('kv-1');
    expect((await t.http.get(`${kvPairs}/kv-1`)).body.spec).toEqual({ kv: [{ key1: 'val3' }, { key2: 'val4' }] });
  });

  it('a PUT with a stale If-Match answers 412; the current ETag succeeds', async () => {
    const etag = (await t.http.get(`${kvPairs}/kv-1`)).headers.etag as string;
    const fresh = await t.http.put(`${kvPairs}/kv-1`).set('If-Match', etag).send(design.kvPairUpdate());
    expect(fresh.status).toBe(200);
    expectError(
      await t.http.put(`${kvPairs}/kv-1`).set('If-Match', etag).send(design.kvPair()),
      412,
      /kv-1 was changed/,
    );
    expect((await t.http.get(`${kvPairs}/kv-1`)).body.spec).toEqual(design.kvPairUpdate().spec);
    expect(
      (
        await t.http
          .put(`${kvPairs}/kv-1`)
          .set('If-Match', fresh.headers.etag as string)
          .send(design.kvPairUpdate())
      ).status,
    ).toBe(200);
  });

  it('lists kv-pairs', async () => {
    await t.http.post(kvPairs).send({ metadata: { name: 'kv-0' }, spec: { kv: [{ replicas: 3 }, { enabled: true }] } });
    const res = await t.http.get(kvPairs);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'kv-0' }),
        spec: { kv: [{ replicas: 3 }, { enabled: true }] },
      }),
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'kv-1' }) }),
    ]);
  });

  it('answers 409 for a duplicate name, 404 for a missing kv-pair', async () => {
    expectError(await t.http.post(kvPairs).send(design.kvPair()), 409, /kv-1 already exists/);
    expectError(await t.http.get(`${kvPairs}/nothing`), 404, /nothing not found in Logical Cloud lc-1/);
  });

  it('DELETE (endpoint 19) answers 204 and the kv-pair is gone', async () => {
    const res = await t.http.delete(`${kvPairs}/kv-1`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await t.http.get(`${kvPairs}/kv-1`), 404);
  });
});
