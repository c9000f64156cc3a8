/**
 * The gRPC API with a real grpc-js client: every RPC group's happy path, the error codes,
 * parity with REST on the same DCM, health, reflection, deadlines, and that many status
 * watches leave no listener behind when their clients go away.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import { fieldViolations } from '../../src/grpc/errors.js';
import { design, startTestDcm, type TestDcm } from '../support/dcm.js';
import { setUpProjectAndClusters } from '../support/rest.js';
import { grpcError, json, startTestGrpc, struct, until, type GrpcResource, type TestGrpc } from '../support/grpc.js';

const PROJECT = 'p-grpc';
const REST_LC = `/v2/projects/${PROJECT}/logical-clouds`;
const { status } = grpc;

interface ResourceList {
  items: GrpcResource[];
  total: number;
}

describe('gRPC API', () => {
  let t: TestDcm;
  let g: TestGrpc;
  const ref = (logicalCloud = 'lc-1') => ({ project: PROJECT, logical_cloud: logicalCloud });

  beforeAll(async () => {
    t = await startTestDcm('grpc');
    g = await startTestGrpc(t);
    await setUpProjectAndClusters(t, PROJECT);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  describe('health and reflection', () => {
    it('answers SERVING for the server and for dcm.v1.LogicalCloudService, NOT_FOUND for an unknown service', async () => {
      expect(await g.call('Health.Check', { service: '' })).toEqual({ status: 'SERVING' });
      expect(await g.call('Health.Check', { service: 'dcm.v1.LogicalCloudService' })).toEqual({ status: 'SERVING' });
      expect((await grpcError(g.call('Health.Check', { service: 'nope.Service' }))).code).toBe(status.NOT_FOUND);
    });

    it('lists its services through server reflection', async () => {
      const reflectionProto = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', {
        includeDirs: [new URL('../../node_modules/@grpc/reflection/build/proto', import.meta.url).pathname],
        keepCase: true,
        oneofs: true,
      });
      const root = grpc.loadPackageDefinition(reflectionProto) as unknown as {
        grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
      };
      const client = new root.grpc.reflection.v1.ServerReflection(
        `127.0.0.1:${g.port}`,
        grpc.credentials.createInsecure(),
      );
      try {
        const call = (
          client as unknown as {
            ServerReflectionInfo(): ClientDuplexStream<
              unknown,
              { list_services_response?: { service: { name: string }[] } }
            >;
          }
        ).ServerReflectionInfo();
        const answer = new Promise<string[]>((resolve, reject) => {
          call.on('data', (m) =>
            resolve((m.list_services_response?.service ?? []).map((s: { name: string }) => s.name)),
          );
          call.on('error', reject);
        });
        call.write({ list_services: '*' });
        const names = await answer;
        call.end();
        expect(names).toEqual(expect.arrayContaining(['dcm.v1.LogicalCloudService', 'grpc.health.v1.Health']));
      } finally {
        client.close();
      }
    });
  });

  describe('logical clouds', () => {
    it('creates, gets, lists, updates (with and without expected_revision) and deletes', async () => {
      const created = await g.call<GrpcResource>('CreateLogicalCloud', {
        project: PROJECT,
        body: struct(design.logicalCloud()),
      });
      expect(created).toMatchObject({ name: 'lc-1', revision: 1 });
      expect(json(created.body)).toMatchObject({
        'logical-cloud-name': 'lc-1',
        namespace: 'ns-1',
        'user-name': 'user-1',
        spec: {
          user: { 'user-permissions': [{ 'permission-name': 'permission-1' }, { 'permission-name': 'permission-2' }] },
        },
      });

      const got = await g.call<GrpcResource>('GetLogicalCloud', { project: PROJECT, name: 'lc-1' });
      expect(json(got.body)).toEqual(json(created.body));

      await g.call('CreateLogicalCloud', {
        project: PROJECT,
        body: struct({
          metadata: { name: 'lc-other' },
          spec: { ...design.logicalCloud().spec, namespace: 'ns-other' },
        }),
      });
      const page = await g.call<ResourceList>('ListLogicalClouds', { project: PROJECT, page: { limit: 1, offset: 0 } });
      expect(page.total).toBe(2);
      expect(page.items.map((i) => i.name)).toEqual(['lc-1']);

      const { metadata: _metadata, ...rest } = design.logicalCloud();
      const update = { metadata: { description: 'changed over gRPC' }, ...rest };
      const stale = await grpcError(
        g.call('UpdateLogicalCloud', { project: PROJECT, name: 'lc-1', body: struct(update), expected_revision: 7 }),
      );
      expect(stale.code).toBe(status.FAILED_PRECONDITION);
      expect(stale.details).toMatch(/changed since revision 7/);
      const updated = await g.call<GrpcResource>('UpdateLogicalCloud', {
        project: PROJECT,
        name: 'lc-1',
        body: struct(update),
        expected_revision: 1,
      });
      expect(updated.revision).toBe(2);
      expect(json(updated.body)).toMatchObject({ metadata: { description: 'changed over gRPC' } });

      expect(await g.call('DeleteLogicalCloud', { project: PROJECT, name: 'lc-other' })).toEqual({});
      expect((await grpcError(g.call('GetLogicalCloud', { project: PROJECT, name: 'lc-other' }))).code).toBe(
        status.NOT_FOUND,
      );
    });
  });

  describe('children of a logical cloud', () => {
    const groups = [
      {
        kind: 'ClusterReference',
        plural: 'ClusterReferences',
        body: { name: 'cluster-1' },
        update: { 'loadbalancer-ip': '10.0.0.1' },
        created: { 'cluster-provider': 'provider-1', 'cluster-name': 'cluster-1' },
        updated: { 'loadbalancer-ip': '10.0.0.1' },
      },
      {
        kind: 'UserPermission',
        plural: 'UserPermissions',
        body: design.permission3(),
        update: design.permission3Update(),
        created: { name: 'permission-3', namespace: 'ns-1', resources: ['jobs'] },
        updated: { resources: ['pvc'] },
      },
      {
        kind: 'ClusterQuota',
        plural: 'ClusterQuotas',
        body: design.quota(),
        update: { ...design.quotaUpdate(), spec: { cpu: '8' } },
        created: { metadata: { name: 'quota-1' }, spec: { cpu: '400', memory: '1000Gi', pods: '500' } },
        updated: { spec: { cpu: '8' } },
      },
      {
        kind: 'KvPair',
        plural: 'KvPairs',
        body: { ...design.kvPair(), spec: { kv: [{ key1: 'val1' }, { n: 3 }, { b: true }, { z: null }] } },
        update: design.kvPairUpdate(),
        created: { metadata: { name: 'kv-1' }, spec: { kv: [{ key1: 'val1' }, { n: 3 }, { b: true }, { z: null }] } },
        updated: { spec: { kv: [{ key1: 'val3' }, { key2: 'val4' }] } },
      },
    ];

    for (const group of groups) {
      it(`${group.plural}: create, get, list, update, delete`, async () => {
        const created = await g.call<GrpcResource>(`Create${group.kind}`, { ...ref(), body: struct(group.body) });
        expect(json(created.body)).toMatchObject(group.created);
        const name = created.name;
        expect(json((await g.call<GrpcResource>(`Get${group.kind}`, { ...ref(), name })).body)).toEqual(
          json(created.body),
        );
        const list = await g.call<ResourceList>(`List${group.plural}`, ref());
        expect(list.items.map((i) => i.name)).toContain(name);
        const updated = await g.call<GrpcResource>(`Update${group.kind}`, {
          ...ref(),
          name,
          body: struct(group.update),
        });
        expect(updated.revision).toBe(created.revision + 1);
        expect(json(updated.body)).toMatchObject(group.updated);
        await g.call(`Delete${group.kind}`, { ...ref(), name });
        expect((await grpcError(g.call(`Get${group.kind}`, { ...ref(), name }))).code).toBe(status.NOT_FOUND);
      });
    }
  });

  describe('error codes', () => {
    it('INVALID_ARGUMENT names every offending field, in the message and as a google.rpc.BadRequest', async () => {
      const body = design.logicalCloud();
      body.metadata.name = 'lc-bad';
      body.spec.namespace = 'Not_A_Namespace';
      const error = await grpcError(
        g.call('CreateLogicalCloud', { project: PROJECT, body: struct({ ...body, extra: 1 }) }),
      );
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/body\.spec\.namespace/);
      const fields = fieldViolations(error).map((v) => v.field);
      expect(fields).toEqual(expect.arrayContaining(['body.spec.namespace', 'body.extra']));
    });

    it('INVALID_ARGUMENT for a missing request field, a bad page, a name that disagrees with the body', async () => {
      const missing = await grpcError(g.call('GetClusterQuota', { project: PROJECT, name: 'q' }));
      expect(missing.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(missing)).toEqual([{ field: 'logical_cloud', description: 'is required' }]);
      const page = await grpcError(g.call('ListKvPairs', { ...ref(), page: { limit: 501 } }));
      expect(page.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(page).map((v) => v.field)).toEqual(['page.limit']);
      const rename = await grpcError(
        g.call('UpdateClusterQuota', {
          ...ref(),
          name: 'q',
          body: struct({ metadata: { name: 'other' }, spec: { cpu: '1' } }),
        }),
      );
      expect(rename.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(rename).map((v) => v.field)).toEqual(['metadata.name']);
    });

    it('INVALID_ARGUMENT naming the field for a NUL character anywhere in a request (never INTERNAL)', async () => {
      const name = await grpcError(g.call('GetLogicalCloud', { project: PROJECT, name: 'lc\u0000' }));
      expect(name.code).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations(name).map((v) => v.field)).toEqual(['name']);
      const body = design.kvPair() as { metadata: Record<string, unknown> };
      body.metadata.description = 'a\u0000b';
      const inBody = await grpcError(g.call('CreateKvPair', { ...ref(), body: struct(body) }));
      expect(inBody.code).toBe(status.INVALID_ARGUMENT);
      expect(inBody.details).toMatch(/NUL character/);
    });

    it('NOT_FOUND for a missing project, logical cloud or child', async () => {
      expect((await grpcError(g.call('GetLogicalCloud', { project: 'nope', name: 'lc-1' }))).details).toMatch(
        /Project nope not found/,
      );
      expect((await grpcError(g.call('GetStatus', ref('nope')))).code).toBe(status.NOT_FOUND);
      expect((await grpcError(g.call('DeleteKvPair', { ...ref(), name: 'nope' }))).code).toBe(status.NOT_FOUND);
    });

    it('ALREADY_EXISTS for a duplicate name', async () => {
      await g.call('CreateKvPair', { ...ref(), body: struct(design.kvPair()) });
      const error = await grpcError(g.call('CreateKvPair', { ...ref(), body: struct(design.kvPair()) }));
      expect(error.code).toBe(status.ALREADY_EXISTS);
      expect(error.details).toMatch(/kv-1 already exists/);
      await g.call('DeleteKvPair', { ...ref(), name: 'kv-1' });
    });

    it('FAILED_PRECONDITION when the state does not allow it: apply without clusters, terminate or kubeconfig before apply', async () => {
      const apply = await grpcError(g.call('Apply', ref()));
      expect(apply.code).toBe(status.FAILED_PRECONDITION);
      expect(apply.details).toMatch(/no cluster references/);
      expect((await grpcError(g.call('Terminate', ref()))).code).toBe(status.FAILED_PRECONDITION);
      expect((await grpcError(g.call('GetKubeconfig', ref()))).code).toBe(status.FAILED_PRECONDITION);
    });

    it('honours deadlines: a call whose deadline has passed is DEADLINE_EXCEEDED and changes nothing', async () => {
      const error = await grpcError(
        g.call(
          'CreateKvPair',
          { ...ref(), body: struct({ ...design.kvPair(), metadata: { name: 'kv-late' } }) },
          { deadline: Date.now() - 1 },
        ),
      );
      expect(error.code).toBe(status.DEADLINE_EXCEEDED);
      expect((await grpcError(g.call('GetKvPair', { ...ref(), name: 'kv-late' }))).code).toBe(status.NOT_FOUND);
    });
  });

  describe('parity with REST', () => {
    it('what gRPC creates, REST reads identically', async () => {
      const created = await g.call<GrpcResource>('CreateClusterQuota', {
        ...ref(),
        body: struct({ ...design.quota(), metadata: { name: 'quota-parity' } }),
      });
      const rest = await t.http.get(`${REST_LC}/lc-1/cluster-quotas/quota-parity`).expect(200);
      expect(rest.body).toEqual(json(created.body));
      expect(rest.headers.etag).toBe(`"${created.revision}"`);
      const lc = await t.http.get(`${REST_LC}/lc-1`).expect(200);
      expect(lc.body).toEqual(
        json((await g.call<GrpcResource>('GetLogicalCloud', { project: PROJECT, name: 'lc-1' })).body),
      );
    });

    it('what REST creates, gRPC reads identically', async () => {
      const rest = await t.http
        .post(`${REST_LC}/lc-1/user-permissions`)
        .send({ name: 'perm-rest', apiGroups: [''], resources: ['pods'], verbs: ['get'] })
        .expect(201);
      const got = await g.call<GrpcResource>('GetUserPermission', { ...ref(), name: 'perm-rest' });
      expect(json(got.body)).toEqual(rest.body);
      const status = await t.http.get(`${REST_LC}/lc-1/status`).expect(200);
      const grpcStatus = await g.call<{ state: string; status: string; in_progress: boolean; body: never }>(
        'GetStatus',
        ref(),
      );
      expect(grpcStatus).toMatchObject({ state: 'Created', status: 'Not Applied', in_progress: false });
      expect(json(grpcStatus.body)).toEqual(status.body);
    });
  });

  describe('WatchStatus', () => {
    it('20 concurrent watches each get the current status and, cancelled by their clients, leave no listener behind', async () => {
      const events = t.dcm.stores.lifecycle.events;
      const lc = await t.dcm.services.logicalClouds.resolve(PROJECT, 'lc-1');
      const streams: ClientReadableStream<{ status: string }>[] = [];
      const firsts = Array.from({ length: 20 }, () => {
        const stream = g.stream<{ status: string }>('WatchStatus', ref());
        streams.push(stream);
        return new Promise<string>((resolve, reject) => {
          stream.once('data', (m: { status: string }) => resolve(m.status));
          stream.once('error', reject);
        });
      });
      expect(await Promise.all(firsts)).toEqual(Array(20).fill('Not Applied'));
      expect(events.listenerCount(lc.id)).toBe(20);

      const ends = streams.map(
        (stream) =>
          new Promise<number>((resolve) => {
            stream.on('error', (e: grpc.ServiceError) => resolve(e.code));
          }),
      );
      for (const stream of streams) stream.cancel();
      expect(new Set(await Promise.all(ends))).toEqual(new Set([status.CANCELLED]));
      await until(() => events.listenerCount() === 0 && g.server.activeWatches() === 0, 'every watch to be cleaned up');
    });

    it('a watch ends at its deadline with DEADLINE_EXCEEDED and leaves no listener behind', async () => {
      const stream = g.stream<{ status: string }>('WatchStatus', ref(), { deadline: Date.now() + 500 });
      const first = new Promise<string>((resolve) => stream.once('data', (m: { status: string }) => resolve(m.status)));
      const end = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      expect(await first).toBe('Not Applied');
      expect((await end).code).toBe(status.DEADLINE_EXCEEDED);
      await until(
        () => t.dcm.stores.lifecycle.events.listenerCount() === 0 && g.server.activeWatches() === 0,
        'the expired watch to be cleaned up',
      );
    });

    it('ends with NOT_FOUND for an unknown logical cloud', async () => {
      const stream = g.stream('WatchStatus', ref('nope'));
      const error = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      expect(error.code).toBe(status.NOT_FOUND);
      expect(t.dcm.stores.lifecycle.events.listenerCount()).toBe(0);
    });
  });
});
