/**
 * Streams and downloads are accounted: a caller holds at most DCM_WATCH_STREAMS_PER_CALLER
 * WatchStatus streams at once (RESOURCE_EXHAUSTED beyond, the count going down when a stream
 * ends however it ends), and every kubeconfig download, served or refused, REST or gRPC,
 * writes one audit line naming who, which logical cloud and which cluster reference(s),
 * never the kubeconfig. No apply: refused downloads are downloads too.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { createDcmGrpcServer } from '../../src/composition-root.js';
import { defaultConfig } from '../../src/config.js';
import type { DcmGrpcServer } from '../../src/grpc/server.js';
import { loadDcmProto } from '../../src/grpc/proto.js';
import { bearer, grpcError, startTestGrpc, until, type TestGrpc } from '../support/grpc.js';
import { createDesignLogicalCloud, createProject, lcPath } from '../support/rest.js';
import { allowEverything, startAuthDcm, TOKENS, type AuthTestDcm } from './auth-fixtures.js';

const { status } = grpc;
const ref = (project: string, logicalCloud: string) => ({ project, logical_cloud: logicalCloud });

type Stream = ClientReadableStream<{ state: string }>;
type StreamMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => Stream;

/** A gRPC server of the test DCM with its own WatchStatus limit, and a client that opens streams on it. */
async function limitedGrpc(t: AuthTestDcm, watchStreamsPerCaller: number) {
  const server: DcmGrpcServer = createDcmGrpcServer(t.dcm, {
    logger: pino({ level: 'silent' }),
    ready: async () => true,
    watchStreamsPerCaller,
  });
  const port = await server.listen('127.0.0.1', 0);
  const proto = loadDcmProto();
  const client = new proto.LogicalCloudService(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as Record<string, StreamMethod> & grpc.Client;
  return {
    server,
    watch: (project: string, logicalCloud: string, token: string): Stream =>
      client.WatchStatus!.call(client, ref(project, logicalCloud), bearer(token), {}),
    close: async () => {
      client.close();
      await server.shutdown(5_000);
    },
  };
}

/** A stream's first message (it is open and counted then). */
const firstMessage = (stream: Stream) =>
  new Promise<{ state: string }>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });

/** The error a stream ends with, without a message first. */
const streamError = (stream: Stream) =>
  new Promise<ServiceError>((resolve, reject) => {
    stream.on('data', () => reject(new Error('expected the stream to end without sending')));
    stream.on('error', resolve);
  });

/** Cancels a stream and waits for its end on the client. */
async function cancel(stream: Stream): Promise<void> {
  const ended = new Promise<void>((resolve) => stream.on('error', () => resolve()));
  stream.cancel();
  await ended;
}

describe('streams and downloads are accounted', () => {
  let t: AuthTestDcm;
  let g: TestGrpc;

  beforeAll(async () => {
    t = await startAuthDcm('streams');
    g = await startTestGrpc(t);
    const admin = { http: t.as(TOKENS.admin) };
    await createProject(admin, 'p1');
    await createProject(admin, 'p2');
    await createDesignLogicalCloud(admin, 'p1', 'lc-1');
    await createDesignLogicalCloud(admin, 'p1', 'lc-2');
    for (const p of ['p1', 'p2']) await allowEverything(admin.http, p);
  });

  afterAll(async () => {
    await g?.close();
    await t?.close();
  });

  describe('WatchStatus streams per caller', () => {
    it('defaults to 10 (DCM_WATCH_STREAMS_PER_CALLER) and refuses the 11th with RESOURCE_EXHAUSTED', async () => {
      expect(defaultConfig().DCM_WATCH_STREAMS_PER_CALLER).toBe(10);
      const streams = Array.from({ length: 10 }, () =>
        g.stream<{ state: string }>('WatchStatus', ref('p1', 'lc-1'), {}, bearer(TOKENS.tenant)),
      );
      await Promise.all(streams.map(firstMessage));
      const refused = await streamError(g.stream('WatchStatus', ref('p1', 'lc-1'), {}, bearer(TOKENS.tenant)));
      expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused.details).toMatch(/at most 10 WatchStatus streams per caller/);
      for (const s of streams) await cancel(s);
      await until(() => g.server.activeWatches() === 0, 'the cancelled streams to close');
      const again = g.stream<{ state: string }>('WatchStatus', ref('p1', 'lc-1'), {}, bearer(TOKENS.tenant));
      expect((await firstMessage(again)).state).toBe('Created');
      await cancel(again);
    });

    it('counts per caller, and gives a stream back when one is cancelled or ends in an error', async () => {
      const l = await limitedGrpc(t, 2);
      try {
        const a = l.watch('p1', 'lc-1', TOKENS.tenant);
        const b = l.watch('p1', 'lc-1', TOKENS.tenant);
        await Promise.all([firstMessage(a), firstMessage(b)]);
        const third = await streamError(l.watch('p1', 'lc-1', TOKENS.tenant));
        expect({ code: third.code, details: third.details }).toEqual({
          code: status.RESOURCE_EXHAUSTED,
          details: expect.stringMatching(/at most 2 WatchStatus streams per caller .*DCM_WATCH_STREAMS_PER_CALLER/),
        });

        // Another caller has streams of its own.
        const other = l.watch('p1', 'lc-2', TOKENS.team1);
        await firstMessage(other);

        // A cancel gives one back.
        await cancel(a);
        await until(() => l.server.activeWatches() === 2, 'the cancelled stream to close');
        const c = l.watch('p1', 'lc-1', TOKENS.tenant);
        await firstMessage(c);
        expect((await streamError(l.watch('p1', 'lc-1', TOKENS.tenant))).code).toBe(status.RESOURCE_EXHAUSTED);

        // Streams that end in an error (NOT_FOUND) give theirs back at once.
        for (let i = 0; i < 3; i++)
          expect((await streamError(l.watch('p1', 'lc-missing', TOKENS.team1))).code).toBe(status.NOT_FOUND);
        const team1Second = l.watch('p1', 'lc-2', TOKENS.team1);
        await firstMessage(team1Second);
        expect((await streamError(l.watch('p1', 'lc-2', TOKENS.team1))).code).toBe(status.RESOURCE_EXHAUSTED);

        // Refused callers hold nothing: a PERMISSION_DENIED stream never reached the handler.
        expect((await streamError(l.watch('p2', 'lc-1', TOKENS.tenant))).code).toBe(status.PERMISSION_DENIED);

        // Shutdown ends every stream (UNAVAILABLE) and leaves nothing counted.
        const ends = [b, c, other, team1Second].map(
          (s) => new Promise<ServiceError>((resolve) => s.on('error', resolve)),
        );
        await l.server.shutdown(1_000);
        for (const end of await Promise.all(ends)) expect(end.code).toBe(status.UNAVAILABLE);
        expect(l.server.activeWatches()).toBe(0);
      } finally {
        await l.close().catch(() => undefined);
      }
    });
  });

  describe('kubeconfig downloads', () => {
    const downloads = () => t.logs.records().filter((r) => r.audit === true && r.event === 'kubeconfig-download');

    it('audits a REST download with who, project, logical cloud, references and outcome, never the content', async () => {
      const res = await t.as(TOKENS.tenant).get(`${lcPath('p1', 'lc-1')}/kubeconfig`);
      expect(res.status).toBe(409);
      const line = downloads().find(
        (r) => r.transport === 'http' && (r.principal as { name: string }).name === 'tenant-1',
      );
      expect(line).toMatchObject({
        level: 30,
        name: 'audit',
        principal: { name: 'tenant-1', source: 'token' },
        method: 'GET',
        route: '/v2/projects/:project/logical-clouds/:logicalCloud/kubeconfig',
        project: 'p1',
        logicalCloud: 'lc-1',
        clusterReferences: 'all',
        status: 409,
        outcome: 'failure',
      });
      expect(line?.reqId).toEqual(expect.any(String));

      await t.as(TOKENS.team1).get(`${lcPath('p1', 'lc-1')}/kubeconfig?cluster-reference=ref-a`);
      await t.as(TOKENS.team1).get(`${lcPath('p1', 'lc-2')}/cluster-references/ref-b/kubeconfig`);
      const team1 = downloads().filter((r) => (r.principal as { name: string } | null)?.name === 'team-1');
      expect(team1.map((r) => ({ lc: r.logicalCloud, refs: r.clusterReferences, outcome: r.outcome }))).toEqual([
        { lc: 'lc-1', refs: ['ref-a'], outcome: 'failure' },
        { lc: 'lc-2', refs: ['ref-b'], outcome: 'failure' },
      ]);
    });

    it('audits refused attempts too (another project, no token)', async () => {
      expect((await t.as(TOKENS.team2).get(`${lcPath('p1', 'lc-1')}/kubeconfig`)).status).toBe(403);
      expect(downloads().find((r) => (r.principal as { name: string } | null)?.name === 'team-2')).toMatchObject({
        project: 'p1',
        logicalCloud: 'lc-1',
        status: 403,
        outcome: 'failure',
      });
      expect((await t.http.get(`${lcPath('p1', 'lc-2')}/kubeconfig`)).status).toBe(401);
      expect(
        downloads().find((r) => r.principal === null && r.logicalCloud === 'lc-2' && r.status === 401),
      ).toBeDefined();
    });

    it('audits gRPC GetKubeconfig the same way', async () => {
      const error = await grpcError(g.call('GetKubeconfig', ref('p1', 'lc-1'), {}, bearer(TOKENS.tenant)));
      expect(error.code).toBe(status.FAILED_PRECONDITION);
      const refused = await grpcError(
        g.call('GetKubeconfig', { ...ref('p1', 'lc-2'), cluster_reference: 'ref-c' }, {}, bearer(TOKENS.tenant)),
      );
      expect(refused.code).toBe(status.PERMISSION_DENIED);
      const lines = downloads().filter((r) => r.transport === 'grpc');
      expect(lines).toEqual([
        expect.objectContaining({
          principal: { name: 'tenant-1', source: 'token' },
          method: 'dcm.v1.LogicalCloudService/GetKubeconfig',
          project: 'p1',
          logicalCloud: 'lc-1',
          clusterReferences: 'all',
          code: 'FAILED_PRECONDITION',
          outcome: 'failure',
        }),
        expect.objectContaining({
          logicalCloud: 'lc-2',
          clusterReferences: ['ref-c'],
          code: 'PERMISSION_DENIED',
          outcome: 'failure',
        }),
      ]);
    });

    it('one line per download, and no key material anywhere in the log', () => {
      expect(downloads()).toHaveLength(7);
      expect(t.logs.text()).not.toMatch(/BEGIN|client-key-data|client-certificate-data/);
    });
  });
});
