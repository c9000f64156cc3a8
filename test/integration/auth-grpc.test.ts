/**
 * The gRPC API under the same rules as REST, with a real grpc-js client sending
 * `authorization: Bearer …` metadata: UNAUTHENTICATED without or with a bad token,
 * PERMISSION_DENIED outside the caller's scope (WatchStatus too); health stays open.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { tokenFingerprint } from '../../src/auth/static-tokens.js';
import { design } from '../support/dcm.js';
import { bearer, grpcError, startTestGrpc, struct, type GrpcResource, type TestGrpc } from '../support/grpc.js';
import { createDesignLogicalCloud, createProject } from '../support/rest.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const { status } = grpc;
const ref = (project: string, logicalCloud: string) => ({ project, logical_cloud: logicalCloud });

/** The error a stream ends with (fails if it sends a message first). */
const streamError = (stream: ClientReadableStream<unknown>) =>
  new Promise<ServiceError>((resolve, reject) => {
    stream.on('data', () => reject(new Error('expected the stream to fail without sending')));
    stream.on('error', resolve);
  });

describe('gRPC authentication and authorization', () => {
  let t: AuthTestDcm;
  let g: TestGrpc;

  beforeAll(async () => {
    t = await startAuthDcm('auth_grpc');
    g = await startTestGrpc(t);
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await createProject(admin, 'p2');
    await createDesignLogicalCloud(admin, 'p1', 'lc-1');
    await createDesignLogicalCloud(admin, 'p1', 'lc-2');
    await createDesignLogicalCloud(admin, 'p2', 'lc-1', 'ns-p2');
    for (const p of ['p1', 'p2']) await allowEverything(admin.http, p);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  it('keeps health open', async () => {
    expect(await g.call('Health.Check', { service: 'dcm.v1.LogicalCloudService' })).toEqual({ status: 'SERVING' });
  });

  it('answers UNAUTHENTICATED without a token or with a bad one, and logs it without the token', async () => {
    const none = await grpcError(g.call('GetLogicalCloud', { project: 'p1', name: 'lc-1' }));
    expect({ code: none.code, details: none.details }).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'authentication required: send the header Authorization: Bearer <token>',
    });
    const wrong = 'not-a-token-of-this-dcm-5678';
    const metadata = bearer(wrong);
    metadata.set('x-request-id', 'grpc-refused-1');
    const bad = await grpcError(g.call('ListLogicalClouds', { project: 'p1' }, {}, metadata));
    expect({ code: bad.code, details: bad.details }).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'the bearer token is not valid',
    });
    expect(bad.metadata.get('x-request-id')).toEqual(['grpc-refused-1']);
    const line = t.logs.records().find((r) => r.reqId === 'grpc-refused-1' && r.msg === 'request refused');
    expect(line).toMatchObject({
      level: 40,
      transport: 'grpc',
      method: '/dcm.v1.LogicalCloudService/ListLogicalClouds',
      token: tokenFingerprint(wrong),
    });
    expect(t.logs.text()).not.toContain(wrong);
  });

  it('lets an admin do everything', async () => {
    const admin = bearer(TOKENS.admin);
    const body = design.logicalCloud();
    body.metadata.name = 'lc-admin';
    body.spec.namespace = 'ns-admin';
    const created = await g.call<GrpcResource>('CreateLogicalCloud', { project: 'p2', body: struct(body) }, {}, admin);
    expect(created).toMatchObject({ name: 'lc-admin', revision: 1 });
    expect(await g.call('GetStatus', ref('p1', 'lc-2'), {}, admin)).toMatchObject({ state: 'Created' });
    expect((await g.call<{ total: number }>('ListLogicalClouds', { project: 'p1' }, {}, admin)).total).toBe(2);
  });

  it('lets a project caller into its project only', async () => {
    const team = bearer(TOKENS.team1);
    expect((await g.call<{ total: number }>('ListLogicalClouds', { project: 'p1' }, {}, team)).total).toBe(2);
    const body = design.logicalCloud();
    body.metadata.name = 'lc-team';
    body.spec.namespace = 'ns-team';
    expect(
      await g.call<GrpcResource>('CreateLogicalCloud', { project: 'p1', body: struct(body) }, {}, team),
    ).toMatchObject({ name: 'lc-team' });
    await g.call('DeleteLogicalCloud', { project: 'p1', name: 'lc-team' }, {}, team);

    const denied = await grpcError(g.call('GetLogicalCloud', { project: 'p2', name: 'lc-1' }, {}, team));
    expect({ code: denied.code, details: denied.details }).toEqual({
      code: status.PERMISSION_DENIED,
      details: 'permission denied: team-1 may not read logical cloud p2/lc-1',
    });
    const create = await grpcError(g.call('CreateLogicalCloud', { project: 'p2', body: struct(body) }, {}, team));
    expect(create.code).toBe(status.PERMISSION_DENIED);
    // Refused before the handler: nothing was created.
    expect((await t.as(TOKENS.admin).get('/v2/projects/p2/logical-clouds/lc-team')).status).toBe(404);
    expect((await grpcError(g.call('Apply', ref('p2', 'lc-1'), {}, team))).code).toBe(status.PERMISSION_DENIED);
  });

  it('lets a tenant get only the kubeconfig and status of its logical cloud', async () => {
    const tenant = bearer(TOKENS.tenant);
    // FAILED_PRECONDITION "not applied" proves that authorization let it through.
    const kubeconfig = await grpcError(g.call('GetKubeconfig', ref('p1', 'lc-1'), {}, tenant));
    expect(kubeconfig.code).toBe(status.FAILED_PRECONDITION);
    expect(await g.call('GetStatus', ref('p1', 'lc-1'), {}, tenant)).toMatchObject({ state: 'Created' });
    for (const [method, request] of [
      ['GetLogicalCloud', { project: 'p1', name: 'lc-1' }],
      ['ListUserPermissions', ref('p1', 'lc-1')],
      ['Apply', ref('p1', 'lc-1')],
      ['GetKubeconfig', ref('p1', 'lc-2')],
      ['GetKubeconfig', ref('p2', 'lc-1')],
      ['ListLogicalClouds', { project: 'p1' }],
    ] as const) {
      const error = await grpcError(g.call(method, request, {}, tenant));
      expect({ method, code: error.code }).toEqual({ method, code: status.PERMISSION_DENIED });
    }
  });

  it('guards WatchStatus the same way', async () => {
    const anonymous = await streamError(g.stream('WatchStatus', ref('p1', 'lc-1')));
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    const other = await streamError(g.stream('WatchStatus', ref('p2', 'lc-1'), {}, bearer(TOKENS.tenant)));
    expect(other.code).toBe(status.PERMISSION_DENIED);

    const own = g.stream<{ state: string }>('WatchStatus', ref('p1', 'lc-1'), {}, bearer(TOKENS.tenant));
    const ended = new Promise<ServiceError>((resolve) => own.on('error', resolve));
    const first = await new Promise<{ state: string }>((resolve) => own.once('data', resolve));
    expect(first.state).toBe('Created');
    own.cancel();
    expect((await ended).code).toBe(status.CANCELLED);
  });
});
