/**
 * Refusals are never 500s (issue 14, item 8): a caller's path with odd percent-encodings
 * (`%E2%82%AC`, `%0A`, `%FF`, `%00`, …) is refused with 403 like any other path outside its
 * scope, and `WWW-Authenticate` carries fixed text only, never anything of the request or of
 * an error message (a header cannot carry `€` or a line break: the response would fail with a
 * 500, or a header could be injected).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { createDesignLogicalCloud, createProject, expectError } from '../support/rest.js';
import { startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

/** The only values WWW-Authenticate takes: one per kind of refusal. */
const WWW_AUTHENTICATE = {
  missing: 'Bearer realm="dcm"',
  invalidToken:
    'Bearer realm="dcm", error="invalid_token", error_description="the bearer token is not valid or has expired"',
  insufficientScope: 'Bearer realm="dcm", error="insufficient_scope", error_description="the caller may not do this"',
} as const;

/** Path segments that decode to what no header may carry, or do not decode at all. */
const ODD_SEGMENTS = [
  '%E2%82%AC', // €
  'a%0Ab', // line feed
  '%0A',
  '%0D%0ASet-Cookie:%20injected=1', // CR LF and a header
  '%FF', // not UTF-8
  '%00', // NUL
  'p1%00',
  'p1%0A',
  '%C0%AF', // overlong /
  '%ED%A0%80', // a lone surrogate
  '%E2%80%A8', // line separator
  '%7F', // DEL
  '%22%5C', // quote and backslash
  '%', // not percent-encoding at all
  '%2',
  'p%2F1', // an encoded slash
  '%F0%9F%98%80', // an emoji
];

function expectForbidden(res: Response, what: string): void {
  expect({ what, status: res.status, name: (res.body as { name?: string }).name }).toEqual({
    what,
    status: 403,
    name: 'PermissionDenied',
  });
  expectError(res, 403, /^permission denied: /);
  expect({ what, header: res.headers['www-authenticate'] }).toEqual({
    what,
    header: WWW_AUTHENTICATE.insufficientScope,
  });
}

describe('REST refusals are never 500s', () => {
  let t: AuthTestDcm;

  beforeAll(async () => {
    t = await startAuthDcm('auth_refusals');
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await createProject(admin, 'p2');
    await createDesignLogicalCloud(admin, 'p1', 'lc-1');
  });

  afterAll(async () => {
    await t?.close();
  });

  const noServerErrorLogged = () => expect(t.logs.records().filter((r) => (r.level as number) >= 50)).toEqual([]);

  it('answers a project caller 403 for /v2/projects/%E2%82%AC and a path with %0A, with fixed WWW-Authenticate text', async () => {
    const team = t.as(TOKENS.team1);
    expectForbidden(await team.get('/v2/projects/%E2%82%AC'), '€');
    expectForbidden(await team.get('/v2/projects/a%0Ab'), 'LF');
    expectForbidden(await team.get('/v2/projects/%E2%82%AC/logical-clouds/lc-1/status'), '€ status');
    noServerErrorLogged();
  });

  it.each(ODD_SEGMENTS)(
    'answers 403 for the project segment %s, whatever the method and the depth',
    async (segment) => {
      const team = t.as(TOKENS.team1);
      for (const path of [
        `/v2/projects/${segment}`,
        `/v2/projects/${segment}/logical-clouds`,
        `/v2/projects/${segment}/logical-clouds/lc-1/kubeconfig`,
        `/v2/${segment}`,
      ]) {
        expectForbidden(await team.get(path), `GET ${path}`);
        expectForbidden(await team.post(path).send({ metadata: { name: 'x' } }), `POST ${path}`);
        expectForbidden(await team.delete(path), `DELETE ${path}`);
      }
      // A tenant, and another project's caller, alike.
      expectForbidden(
        await t.as(TOKENS.tenant).get(`/v2/projects/${segment}/logical-clouds/lc-1/status`),
        `tenant ${segment}`,
      );
      expectForbidden(await t.as(TOKENS.team2).get(`/v2/projects/${segment}`), `team-2 ${segment}`);
      noServerErrorLogged();
    },
  );

  it('answers a project caller a 4xx, never a 500, for odd names inside its own project', async () => {
    const team = t.as(TOKENS.team1);
    for (const segment of ODD_SEGMENTS) {
      for (const path of [
        `/v2/projects/p1/logical-clouds/${segment}`,
        `/v2/projects/p1/logical-clouds/lc-1/cluster-references/${segment}`,
      ]) {
        const res = await team.get(path);
        expect({ path, status: res.status >= 400 && res.status < 500 }).toEqual({ path, status: true });
        expect(res.headers['set-cookie']).toBeUndefined();
      }
    }
    // Its own project still answers.
    expect((await team.get('/v2/projects/p1/logical-clouds/lc-1')).status).toBe(200);
    noServerErrorLogged();
  });

  it('answers an admin a 4xx, never a 500, for the same paths', async () => {
    const admin = t.as(TOKENS.admin);
    for (const segment of ODD_SEGMENTS) {
      for (const path of [`/v2/projects/${segment}`, `/v2/projects/${segment}/logical-clouds/lc-1`]) {
        const res = await admin.get(path);
        expect({ path, status: res.status >= 400 && res.status < 500 }).toEqual({ path, status: true });
      }
    }
    noServerErrorLogged();
  });

  it('answers 401 with fixed WWW-Authenticate text, whatever the path and the token', async () => {
    for (const segment of ODD_SEGMENTS) {
      const missing = await t.http.get(`/v2/projects/${segment}`);
      expectError(missing, 401);
      expect(missing.headers['www-authenticate']).toBe(WWW_AUTHENTICATE.missing);
      const invalid = await t.as(`not-a-token-of-this-dcm-${segment.replace(/%/g, '')}`).get(`/v2/projects/${segment}`);
      expectError(invalid, 401, /the bearer token is not valid/);
      expect(invalid.headers['www-authenticate']).toBe(WWW_AUTHENTICATE.invalidToken);
    }
    noServerErrorLogged();
  });

  it('never puts a message, a name or a path into WWW-Authenticate', async () => {
    const denied = await t.as(TOKENS.team1).get('/v2/projects/p2');
    expectError(denied, 403, /team-1 may not read project p2/);
    expect(denied.headers['www-authenticate']).toBe(WWW_AUTHENTICATE.insufficientScope);
    expect(denied.headers['www-authenticate']).not.toMatch(/team-1|p2/);
    // Every value is printable ASCII without quotes inside its quoted strings.
    for (const value of Object.values(WWW_AUTHENTICATE))
      expect(value).toMatch(/^Bearer realm="dcm"(, [a-z_]+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*$/);
  });
});
