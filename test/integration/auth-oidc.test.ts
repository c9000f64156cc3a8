/**
 * OIDC bearer tokens: a JWKS (and discovery document) served on 127.0.0.1 from keys made
 * with jose, tokens signed with SignJWT; the DCM accepts valid ones (roles and projects from
 * claims) and refuses expired ones, wrong audience, wrong issuer, wrong key, missing claims
 * and symmetric algorithms — over REST and gRPC; an unreachable key set answers 503.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import supertest from 'supertest';
import { loadAuth } from '../../src/auth/setup.js';
import { defaultConfig } from '../../src/config.js';
import { startTestDcm, type TestDcm } from '../support/dcm.js';
import { bearer, grpcError, startTestGrpc, type TestGrpc } from '../support/grpc.js';
import { createDesignLogicalCloud, expectError } from '../support/rest.js';
import { closedPort } from './apply-helpers.js';

const AUDIENCE = 'dcm-api';

describe('OIDC bearer tokens', () => {
  let jwks: http.Server;
  let issuer: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let t: TestDcm;
  let g: TestGrpc;
  const fetches: string[] = [];

  const sign = (
    claims: JWTPayload,
    options: {
      issuer?: string;
      audience?: string;
      expires?: string | number;
      with?: CryptoKey;
      kid?: string;
      subject?: string | null;
    } = {},
  ) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'key-1' })
      .setIssuer(options.issuer ?? issuer)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt();
    if (options.subject !== null) jwt.setSubject(options.subject ?? 'alice');
    if (options.expires !== undefined) jwt.setExpirationTime(options.expires);
    else jwt.setExpirationTime('5m');
    return jwt.sign(options.with ?? key);
  };
  const get = (path: string, token: string) => t.http.get(path).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    jwks = http.createServer((req, res) => {
      fetches.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/jwks') res.end(JSON.stringify({ keys: [publicJwk] }));
      else if (req.url === '/.well-known/openid-configuration')
        res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else res.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;

    const auth = loadAuth({
      ...defaultConfig(),
      DCM_OIDC_ISSUER: issuer,
      DCM_OIDC_AUDIENCE: AUDIENCE,
      DCM_OIDC_JWKS_URL: `${issuer}/jwks`,
    });
    t = await startTestDcm('auth_oidc', { auth });
    g = await startTestGrpc(t);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  it('accepts an admin token (the roles claim holds admin)', async () => {
    const token = await sign({ dcm_roles: ['viewer', 'admin'] });
    for (const project of ['p1', 'p2']) {
      const res = await t.http
        .post('/v2/projects')
        .set('Authorization', `Bearer ${token}`)
        .send({ metadata: { name: project } });
      expect(res.status).toBe(201);
    }
    expect(fetches).toContain('/jwks');
  });

  it('scopes a caller to the projects of its projects claim, and a tenant to its logical clouds claim', async () => {
    const adminToken = await sign({ dcm_roles: 'admin' });
    await createDesignLogicalCloud(
      { http: supertest.agent(t.dcm.app).set('Authorization', `Bearer ${adminToken}`) },
      'p1',
      'lc-1',
    );
    const team = await sign({ dcm_projects: ['p1'] }, { subject: 'bob' });
    const listed = await get('/v2/projects', team);
    expect((listed.body as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(['p1']);
    expect((await get('/v2/projects/p1/logical-clouds/lc-1', team)).status).toBe(200);
    expectError(await get('/v2/projects/p2', team), 403, /^permission denied: bob may not read project p2$/);

    const tenant = await sign({ dcm_logical_clouds: ['p1/lc-1'] }, { subject: 'carol' });
    expectError(await get('/v2/projects/p1/logical-clouds/lc-1/kubeconfig', tenant), 409);
    expectError(
      await get('/v2/projects/p1/logical-clouds/lc-1', tenant),
      403,
      /carol may not read logical cloud p1\/lc-1/,
    );

    const nothing = await sign({}, { subject: 'dave' });
    expectError(await get('/v2/projects', nothing), 403);
  });

  it.each([
    [
      'expired',
      () => sign({ dcm_roles: ['admin'] }, { expires: Math.floor(Date.now() / 1000) - 3600 }),
      /^the bearer token has expired$/,
    ],
    [
      'for another audience',
      () => sign({ dcm_roles: ['admin'] }, { audience: 'another-api' }),
      /^the bearer token was refused: unexpected "aud" claim value$/,
    ],
    [
      'from another issuer',
      () => sign({ dcm_roles: ['admin'] }, { issuer: 'https://evil.example' }),
      /^the bearer token was refused: unexpected "iss" claim value$/,
    ],
    [
      'signed with another key under the same key id',
      () => sign({ dcm_roles: ['admin'] }, { with: otherKey }),
      /signature does not verify with the issuer's keys/,
    ],
    [
      'signed with a key the issuer does not have',
      () => sign({ dcm_roles: ['admin'] }, { with: otherKey, kid: 'key-2' }),
      /signature does not verify with the issuer's keys/,
    ],
    [
      'without a subject',
      () => sign({ dcm_roles: ['admin'] }, { subject: null }),
      /has no "sub" claim naming the caller/,
    ],
    [
      'with a symmetric algorithm',
      () =>
        new SignJWT({ dcm_roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setSubject('eve')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-len!')),
      /not a valid JWT/,
    ],
    [
      'never expiring',
      () =>
        new SignJWT({ dcm_roles: ['admin'] })
          .setProtectedHeader({ alg: 'ES256', kid: 'key-1' })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setSubject('eve')
          .sign(key),
      /missing required "exp" claim/,
    ],
  ])('refuses a token %s with 401', async (_what, token, message) => {
    const res = await get('/v2/projects', await token());
    expectError(res, 401, message);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="dcm", error="invalid_token"/);
  });

  it('applies over gRPC too', async () => {
    const team = await sign({ dcm_projects: ['p1'] });
    expect(await g.call('GetStatus', { project: 'p1', logical_cloud: 'lc-1' }, {}, bearer(team))).toMatchObject({
      state: 'Created',
    });
    const expired = await sign({ dcm_projects: ['p1'] }, { expires: Math.floor(Date.now() / 1000) - 3600 });
    const error = await grpcError(g.call('GetStatus', { project: 'p1', logical_cloud: 'lc-1' }, {}, bearer(expired)));
    expect({ code: error.code, details: error.details }).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: 'the bearer token has expired',
    });
    const other = await grpcError(g.call('GetStatus', { project: 'p2', logical_cloud: 'lc-1' }, {}, bearer(team)));
    expect(other.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('finds the key set through discovery and reads roles from a nested claim', async () => {
    const auth = loadAuth({
      ...defaultConfig(),
      DCM_OIDC_ISSUER: issuer,
      DCM_OIDC_AUDIENCE: AUDIENCE,
      DCM_OIDC_ROLES_CLAIM: 'realm_access.roles',
    });
    const other = await startTestDcm('auth_oidc_discovery', { auth });
    try {
      fetches.length = 0;
      const admin = await sign({ realm_access: { roles: ['admin'] } });
      expect(
        (
          await other.http
            .post('/v2/projects')
            .set('Authorization', `Bearer ${admin}`)
            .send({ metadata: { name: 'p9' } })
        ).status,
      ).toBe(201);
      expect(fetches).toEqual(['/.well-known/openid-configuration', '/jwks']);
      // The flat claim is not the configured one any more.
      expectError(
        await other.http.get('/v2/projects').set('Authorization', `Bearer ${await sign({ dcm_roles: ['admin'] })}`),
        403,
      );
    } finally {
      await other.close();
    }
  });

  it('answers 503 when the key set cannot be fetched', async () => {
    const unreachable = `http://127.0.0.1:${await closedPort()}`;
    const auth = loadAuth({
      ...defaultConfig(),
      DCM_OIDC_ISSUER: issuer,
      DCM_OIDC_AUDIENCE: AUDIENCE,
      DCM_OIDC_JWKS_URL: `${unreachable}/jwks`,
    });
    const other = await startTestDcm('auth_oidc_down', { auth });
    try {
      const res = await other.http
        .get('/v2/projects')
        .set('Authorization', `Bearer ${await sign({ dcm_roles: ['admin'] })}`);
      expectError(
        res,
        503,
        /^cannot verify the bearer token now: the OIDC key set http:\/\/127\.0\.0\.1:\d+\/jwks cannot be fetched/,
      );
    } finally {
      await other.close();
    }
  });
});
