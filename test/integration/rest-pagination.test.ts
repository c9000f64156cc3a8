/** Lists are paginated: `?limit=&offset=`, sorted by name, `X-Total-Count` and a `Link` to the next page. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { createDesignLogicalCloud, createProject, expectError, fieldsOf, lcPath } from '../support/rest.js';

/** Created out of order, so that sorting is visible. */
const PROJECTS = ['p-e', 'p-b', 'p-g', 'p-a', 'p-f', 'p-c', 'p-d'];

const projectNames = (res: Response): string[] =>
  (res.body as { metadata: { name: string } }[]).map((p) => p.metadata.name);

/** The target of the `Link: <…>; rel="next"` header, if any. */
const nextLink = (res: Response): string | undefined =>
  /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''))?.[1];

describe('REST pagination', () => {
  let t: TestDcm;

  beforeAll(async () => {
    t = await startTestDcm('rest_pagination');
    for (const name of PROJECTS) await createProject(t, name);
  });

  afterAll(async () => {
    await t.close();
  });

  it('the first page has limit items sorted by name, the total, and a link to the next page', async () => {
    const res = await t.http.get('/v2/projects?limit=3&offset=0');
    expect(res.status).toBe(200);
    expect(projectNames(res)).toEqual(['p-a', 'p-b', 'p-c']);
    expect(res.headers['x-total-count']).toBe(String(PROJECTS.length));
    expect(nextLink(res)).toBe('/v2/projects?limit=3&offset=3');
  });

  it('following the links visits every project once; the last page has no next link', async () => {
    const seen: string[] = [];
    let link: string | undefined = '/v2/projects?limit=3&offset=0';
    let last: Response | undefined;
    while (link) {
      last = await t.http.get(link);
      expect(last.status).toBe(200);
      seen.push(...projectNames(last));
      link = nextLink(last);
    }
    expect(seen).toEqual([...PROJECTS].sort());
    expect(projectNames(last!)).toEqual(['p-g']);
    expect(last!.headers.link).toBeUndefined();
  });

  it('without parameters a list is the whole (small) collection with its total', async () => {
    const res = await t.http.get('/v2/projects');
    expect(projectNames(res)).toEqual([...PROJECTS].sort());
    expect(res.headers['x-total-count']).toBe(String(PROJECTS.length));
    expect(res.headers.link).toBeUndefined();
  });

  it('the largest offset the document allows (a safe integer) is an empty page; one past it is a 400', async () => {
    const res = await t.http.get('/v2/projects?limit=1&offset=9007199254740990');
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 200, body: [] });
    expectError(await t.http.get('/v2/projects?offset=9007199254740993'), 400);
  });

  it('an offset past the end is an empty page', async () => {
    const res = await t.http.get('/v2/projects?limit=3&offset=30');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([]);
    expect(res.headers['x-total-count']).toBe(String(PROJECTS.length));
  });

  it('paginates child collections too, keeping the design\'s {"permissions": [...]} body', async () => {
    await createDesignLogicalCloud(t, 'p-a');
    const permissions = `${lcPath('p-a', 'lc-1')}/user-permissions`;
    expect((await t.http.post(permissions).send(design.permission3())).status).toBe(201);

    const res = await t.http.get(`${permissions}?limit=2`);
    expect(res.body.permissions.map((p: { name: string }) => p.name)).toEqual(['permission-1', 'permission-2']);
    expect(res.headers['x-total-count']).toBe('3');
    const next = await t.http.get(nextLink(res)!);
    expect(next.body.permissions.map((p: { name: string }) => p.name)).toEqual(['permission-3']);
  });

  it('invalid limits and offsets are 400s naming the query parameter', async () => {
    for (const [query, field] of [
      ['limit=0', 'query.limit'],
      ['limit=501', 'query.limit'],
      ['limit=2.5', 'query.limit'],
      ['offset=-1', 'query.offset'],
      // Found by schemathesis: an empty value was read as 0.
      ['offset=', 'query.offset'],
      ['limit=', 'query.limit'],
      ['limit=ten', 'query.limit'],
      ['offset=1&offset=2', 'query.offset'],
    ] as const) {
      const res = await t.http.get(`/v2/projects?${query}`);
      expectError(res, 400);
      expect(fieldsOf(res)).toEqual([field]);
    }
  });
});
