/**
 * Authentication and authorization of the REST API over real HTTP, with static tokens from
 * a token file: 401 without or with a bad token, an admin does everything, a project caller
 * only its project (403 elsewhere, registry read-only), a tenant only its kubeconfig and
 * status; open endpoints stay open; refusals are logged without the token.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { tokenFingerprint } from '../../src/auth/static-tokens.js';
import { design } from '../support/dcm.js';
import {
  createDesignLogicalCloud,
  createProject,
  createProvider,
  expectError,
  registerCluster,
} from '../support/rest.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const LC = (project: string, lc = '') => `/v2/projects/${project}/logical-clouds${lc ? `/${lc}` : ''}`;

function expectUnauthenticated(res: Response, message: RegExp, invalidToken: boolean): void {
  expectError(res, 401, message);
  expect(res.body.name).toBe('Unauthenticated');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="dcm"/);
  if (invalidToken) expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
}

function expectDenied(res: Response, message?: RegExp): void {
  expectError(res, 403, message ?? /^permission denied: /);
  expect(res.body.name).toBe('PermissionDenied');
}

describe('REST authentication and authorization (static tokens)', () => {
  let t: AuthTestDcm;

  beforeAll(async () => {
    t = await startAuthDcm('auth_rest');
    const admin = { http: t.as(TOKENS.admin) };
    for (const p of ['p1', 'p2', 'p3']) await createProject(admin, p);
    await createProvider(admin, 'provider-1');
    await registerCluster(admin, 'provider-1', 'cluster-1', 1);
    await createDesignLogicalCloud(admin, 'p1', 'lc-1');
    expect((await admin.http.post(`${LC('p1', 'lc-1')}/cluster-references`).send({ name: 'cluster-1' })).status).toBe(
      201,
    );
    await createDesignLogicalCloud(admin, 'p1', 'lc-2');
    await createDesignLogicalCloud(admin, 'p2', 'lc-1', 'ns-p2');
    for (const p of ['p1', 'p2']) await allowEverything(admin.http, p);
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('open endpoints', () => {
    it('serves /healthz, /readyz, /openapi.json, /docs and /metrics without a token', async () => {
      for (const path of ['/healthz', '/readyz', '/openapi.json', '/docs/', '/metrics']) {
        const res = await t.http.get(path);
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
      }
    });
  });

  describe('authentication', () => {
    it('answers 401 with WWW-Authenticate: Bearer without a token, before reading the body', async () => {
      expectUnauthenticated(
        await t.http.get('/v2/projects'),
        /authentication required: send the header Authorization: Bearer <token>/,
        false,
      );
      expectUnauthenticated(
        await t.http.get('/v2/projects/p1/logical-clouds/lc-1/kubeconfig'),
        /authentication required/,
        false,
      );
      expectUnauthenticated(await t.http.get('/v2/no-such-route'), /authentication required/, false);
      // Not 400 (bad JSON) nor 415: nothing of the request is looked at before the caller is known.
      const badBody = await t.http.post('/v2/projects').set('content-type', 'application/json').send('{not json');
      expectUnauthenticated(badBody, /authentication required/, false);
      expectUnauthenticated(
        await t.http.post('/v2/projects').set('content-type', 'text/plain').send('x'),
        /authentication required/,
        false,
      );
    });

    it('answers 401 invalid_token for an unknown token, and 401 for another scheme', async () => {
      expectUnauthenticated(
        await t.as('not-a-token-of-this-dcm-1234').get('/v2/projects'),
        /the bearer token is not valid/,
        true,
      );
      expectUnauthenticated(await t.as(`${TOKENS.admin}x`).get('/v2/projects'), /the bearer token is not valid/, true);
      expectUnauthenticated(
        await t.http.get('/v2/projects').set('Authorization', `Basic ${TOKENS.admin}`),
        /must be "Bearer <token>"/,
        false,
      );
    });

    it('logs every refusal as a warning with a fingerprint of the token, never the token', async () => {
      const wrong = 'wrong-token-for-the-log-check-42';
      await t.as(wrong).get('/v2/projects').set('X-Request-Id', 'refused-1');
      const line = t.logs.records().find((r) => r.reqId === 'refused-1' && r.msg === 'request refused');
      expect(line).toMatchObject({
        level: 40,
        name: 'auth',
        transport: 'http',
        failure: 'unauthenticated',
        token: tokenFingerprint(wrong),
        path: '/v2/projects',
      });
      const text = t.logs.text();
      expect(text).toContain(tokenFingerprint(wrong));
      for (const token of [wrong, ...Object.values(TOKENS)]) expect(text).not.toContain(token);
    });
  });

  describe('an admin token', () => {
    it('manages projects, the cluster registry and every logical cloud', async () => {
      const admin = t.as(TOKENS.admin);
      const projects = await admin.get('/v2/projects');
      expect(projects.status).toBe(200);
      expect((projects.body as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual([
        'p1',
        'p2',
        'p3',
      ]);
      expect((await admin.post('/v2/projects').send({ metadata: { name: 'p-admin' } })).status).toBe(201);
      expect((await admin.delete('/v2/projects/p-admin')).status).toBe(204);
      expect((await admin.post('/v2/cluster-providers').send({ metadata: { name: 'provider-2' } })).status).toBe(201);
      expect((await admin.delete('/v2/cluster-providers/provider-2')).status).toBe(204);
      expect((await admin.get(LC('p2', 'lc-1'))).status).toBe(200);
      expect((await admin.get(`${LC('p2', 'lc-1')}/status`)).status).toBe(200);
      // Past authorization: the kubeconfig is refused only because nothing was applied.
      expectError(await admin.get(`${LC('p1', 'lc-1')}/kubeconfig`), 409);
    });
  });

  describe('a project token (team-1: p1)', () => {
    it('lists only its own projects', async () => {
      const res = await t.as(TOKENS.team1).get('/v2/projects');
      expect(res.status).toBe(200);
      expect(res.headers['x-total-count']).toBe('1');
      expect((res.body as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(['p1']);
    });

    it('reads its project but does not change or create projects', async () => {
      const team = t.as(TOKENS.team1);
      expect((await team.get('/v2/projects/p1')).status).toBe(200);
      expectDenied(
        await team.put('/v2/projects/p1').send({ metadata: { name: 'p1' } }),
        /team-1 may not change project p1 \(admin only\)/,
      );
      expectDenied(await team.delete('/v2/projects/p1'));
      expectDenied(
        await team.post('/v2/projects').send({ metadata: { name: 'p-team' } }),
        /team-1 may not create projects \(admin only\)/,
      );
    });

    it('manages the logical clouds of its project and everything under them', async () => {
      const team = t.as(TOKENS.team1);
      const body = design.logicalCloud();
      body.metadata.name = 'lc-team';
      body.spec.namespace = 'ns-team';
      expect((await team.post(LC('p1')).send(body)).status).toBe(201);
      expect((await team.get(LC('p1'))).body).toHaveLength(3);
      expect(
        (
          await team
            .post(`${LC('p1', 'lc-team')}/cluster-references`)
            .send({ 'cluster-provider': 'provider-1', name: 'cluster-1' })
        ).status,
      ).toBe(201);
      expect((await team.post(`${LC('p1', 'lc-team')}/cluster-quotas`).send(design.quota())).status).toBe(201);
      expect((await team.get(`${LC('p1', 'lc-team')}/status`)).status).toBe(200);
      expectError(await team.get(`${LC('p1', 'lc-team')}/kubeconfig`), 409);
      expect((await team.delete(`${LC('p1', 'lc-team')}/cluster-quotas/quota-1`)).status).toBe(204);
      expect((await team.delete(`${LC('p1', 'lc-team')}/cluster-references/cluster-1`)).status).toBe(204);
      expect((await team.delete(LC('p1', 'lc-team'))).status).toBe(204);
    });

    it('gets 403 for any other project, whether it exists or not', async () => {
      const team = t.as(TOKENS.team1);
      expectDenied(await team.get('/v2/projects/p2'), /team-1 may not read project p2/);
      expectDenied(await team.get('/v2/projects/no-such-project'), /team-1 may not read project no-such-project/);
      expectDenied(await team.get(LC('p2')), /team-1 may not list logical clouds of project p2/);
      expectDenied(
        await team.post(LC('p2')).send(design.logicalCloud()),
        /team-1 may not create logical clouds of project p2/,
      );
      expectDenied(await team.get(LC('p2', 'lc-1')));
      expectDenied(
        await team.post(`${LC('p2', 'lc-1')}/apply`),
        /team-1 may not apply or terminate logical cloud p2\/lc-1/,
      );
      expectDenied(
        await team.get(`${LC('p2', 'lc-1')}/kubeconfig`),
        /team-1 may not get the kubeconfig of logical cloud p2\/lc-1/,
      );
      // Also when the path spells the literal segments in another case (the router does not care).
      expectDenied(await team.get('/v2/PROJECTS/p2/Logical-Clouds/lc-1'));
    });

    it('reads the cluster registry without secrets, and may not change it', async () => {
      const team = t.as(TOKENS.team1);
      expect((await team.get('/v2/cluster-providers')).status).toBe(200);
      const cluster = await team.get('/v2/cluster-providers/provider-1/clusters/cluster-1');
      expect(cluster.status).toBe(200);
      expect(cluster.text).not.toMatch(/kubeconfig|PRIVATE KEY|client-key/i);
      expectDenied(
        await team.post('/v2/cluster-providers').send({ metadata: { name: 'mine' } }),
        /team-1 may not change the cluster registry \(admin only\)/,
      );
      expectDenied(await team.delete('/v2/cluster-providers/provider-1/clusters/cluster-1'));
      expectDenied(await team.put('/v2/cluster-providers/provider-1').send({ metadata: { name: 'provider-1' } }));
    });

    it('is refused paths no rule knows', async () => {
      expectDenied(await t.as(TOKENS.team1).get('/v2/no-such-route'), /team-1 may not GET \/v2\/no-such-route/);
      // An admin gets the router's own answer.
      expectError(await t.as(TOKENS.admin).get('/v2/no-such-route'), 404);
    });
  });

  describe('a project token given by its sha256 (team-2: p2)', () => {
    it('authenticates and reaches only p2', async () => {
      const team2 = t.as(TOKENS.team2);
      expect((await team2.get(LC('p2'))).status).toBe(200);
      expectDenied(await team2.get(LC('p1')));
    });
  });

  describe('a tenant token (tenant-1: p1/lc-1)', () => {
    it('passes authorization for the kubeconfig and status of its logical cloud', async () => {
      const tenant = t.as(TOKENS.tenant);
      // 409 "not applied" proves that authorization let it through.
      expectError(await tenant.get(`${LC('p1', 'lc-1')}/kubeconfig`), 409);
      expectError(await tenant.get(`${LC('p1', 'lc-1')}/kubeconfig?cluster-reference=cluster-1`), 409);
      expectError(await tenant.get(`${LC('p1', 'lc-1')}/cluster-references/cluster-1/kubeconfig`), 409);
      expect((await tenant.get(`${LC('p1', 'lc-1')}/status`)).status).toBe(200);
    });

    it('gets 403 for everything else', async () => {
      const tenant = t.as(TOKENS.tenant);
      expectDenied(await tenant.get(LC('p1', 'lc-1')), /tenant-1 may not read logical cloud p1\/lc-1/);
      expectDenied(await tenant.post(`${LC('p1', 'lc-1')}/apply`));
      expectDenied(await tenant.get(`${LC('p1', 'lc-2')}/kubeconfig`));
      expectDenied(await tenant.get(`${LC('p2', 'lc-1')}/kubeconfig`));
      expectDenied(await tenant.get(`${LC('p1', 'lc-1')}/cluster-references`));
      expectDenied(await tenant.get('/v2/projects'));
      expectDenied(await tenant.get('/v2/projects/p1'));
      expectDenied(await tenant.get('/v2/cluster-providers'));
    });
  });
});
