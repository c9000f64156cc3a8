/**
 * What one client may hold of the gRPC server: grpc.health.v1.Health/Watch streams, served
 * without a token (like Check) also when authentication is enforced, are bounded per peer
 * address (DCM_WATCH_STREAMS_PER_CALLER) and over all peers (DCM_GRPC_HEALTH_WATCHES_MAX) —
 * beyond, RESOURCE_EXHAUSTED at once, and many refused attempts leave the server's memory
 * flat; the connection limits (max concurrent streams, keepalive pings, idle and maximum
 * connection age) reach the HTTP/2 connection. No sleeps: every wait is on an event or a condition.
 */
import http2 from 'node:http2';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import grpc from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { createDcmGrpcServer } from '../../src/composition-root.js';
import { defaultConfig, loadConfig } from '../../src/config.js';
import type { DcmGrpcServer } from '../../src/grpc/server.js';
import type { GrpcServerLimits } from '../../src/grpc/server-limits.js';
import { loadDcmProto } from '../../src/grpc/proto.js';
import { until } from '../support/grpc.js';
import { startAuthDcm, type AuthTestDcm } from './auth-fixtures.js';

const { status } = grpc;
type HealthStream = ClientReadableStream<{ status: string }>;
type WatchMethod = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions) => HealthStream;

/** The first message of a stream (it is open and counted then). */
const firstMessage = (stream: HealthStream) =>
  new Promise<{ status: string }>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
  });

/** The error a stream ends with, without a message first. */
const refusal = (stream: HealthStream) =>
  new Promise<ServiceError>((resolve, reject) => {
    stream.on('data', () => reject(new Error('expected the stream to be refused')));
    stream.on('error', resolve);
  });

/** Cancels a stream and waits for its end on the client. */
async function cancel(stream: HealthStream): Promise<void> {
  const ended = new Promise<void>((resolve) => stream.on('error', () => resolve()));
  stream.cancel();
  await ended;
}

/** The garbage collector, made callable from here (jest's node runs without --expose-gc). */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('cannot reach the garbage collector');
  return gc as () => void;
}

describe('gRPC stream and connection limits', () => {
  let t: AuthTestDcm;
  const servers: { server: DcmGrpcServer; clients: grpc.Client[] }[] = [];

  /** A gRPC server of the test DCM with the given limits, and a factory of health clients (each its own connection). */
  async function limited(limits: Partial<GrpcServerLimits>) {
    const server = createDcmGrpcServer(t.dcm, { logger: pino({ level: 'silent' }), ready: async () => true, limits });
    const port = await server.listen('127.0.0.1', 0);
    const proto = loadDcmProto();
    const entry = { server, clients: [] as grpc.Client[] };
    servers.push(entry);
    const client = () => {
      // Its own subchannel pool: this client gets a connection of its own.
      const c = new proto.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      });
      entry.clients.push(c);
      return (service = '') =>
        (c as unknown as Record<string, WatchMethod>).Watch!.call(c, { service }, new grpc.Metadata(), {});
    };
    return { server, port, client };
  }

  beforeAll(async () => {
    // Authentication enforced: health Watch is still served without a token, and still bounded.
    t = await startAuthDcm('grpc_limits');
  });

  afterAll(async () => {
    for (const { server, clients } of servers) {
      for (const c of clients) c.close();
      await server.shutdown(1_000);
    }
    await t?.close();
  });

  it('takes its limits from bounded configuration variables', () => {
    const config = defaultConfig();
    expect(config).toMatchObject({
      DCM_WATCH_STREAMS_PER_CALLER: 10,
      DCM_GRPC_HEALTH_WATCHES_MAX: 1000,
      DCM_GRPC_MAX_CONCURRENT_STREAMS: 250,
      DCM_GRPC_KEEPALIVE_TIME_MS: 60_000,
      DCM_GRPC_KEEPALIVE_TIMEOUT_MS: 20_000,
      DCM_GRPC_MAX_CONNECTION_IDLE_MS: 300_000,
      DCM_GRPC_MAX_CONNECTION_AGE_MS: 3_600_000,
      DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS: 300_000,
    });
    expect(t.dcm.grpcLimits).toMatchObject({
      watchStreamsPerCaller: 10,
      healthWatchesMax: 1000,
      maxConcurrentStreams: 250,
    });
    for (const [name, bad] of [
      ['DCM_GRPC_HEALTH_WATCHES_MAX', '0'],
      ['DCM_GRPC_MAX_CONCURRENT_STREAMS', '10001'],
      ['DCM_GRPC_KEEPALIVE_TIME_MS', '1000'],
      ['DCM_GRPC_KEEPALIVE_TIMEOUT_MS', 'soon'],
      ['DCM_GRPC_MAX_CONNECTION_IDLE_MS', '-1'],
      ['DCM_GRPC_MAX_CONNECTION_AGE_MS', '999'],
      ['DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS', '1.5'],
    ] as const) {
      expect(() => loadConfig({ [name]: bad })).toThrow(new RegExp(name));
    }
  });

  it('refuses health Watch streams beyond DCM_WATCH_STREAMS_PER_CALLER per peer address (RESOURCE_EXHAUSTED), also over new connections; a cancel gives one back', async () => {
    const l = await limited({ watchStreamsPerCaller: 3, healthWatchesMax: 100 });
    const watch = l.client();
    const open = [watch(), watch(), watch()];
    for (const s of open) expect((await firstMessage(s)).status).toBe('SERVING');
    expect(l.server.activeWatches()).toBe(3);

    const refused = await refusal(watch());
    expect({ code: refused.code, details: refused.details }).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/at most 3 health Watch streams per peer address .*DCM_WATCH_STREAMS_PER_CALLER/),
    });
    // Another connection from the same host is the same peer.
    expect((await refusal(l.client()())).code).toBe(status.RESOURCE_EXHAUSTED);

    await cancel(open[0]!);
    await until(() => l.server.activeWatches() === 2, 'the cancelled health watch to close');
    const again = l.client()();
    expect((await firstMessage(again)).status).toBe('SERVING');
    expect((await refusal(watch())).code).toBe(status.RESOURCE_EXHAUSTED);

    for (const s of [open[1]!, open[2]!, again]) await cancel(s);
    await until(
      () => l.server.activeWatches() === 0 && l.server.healthWatchPeers() === 0,
      'every health watch to close',
    );
  });

  it('refuses health Watch streams beyond DCM_GRPC_HEALTH_WATCHES_MAX over all peers', async () => {
    const l = await limited({ watchStreamsPerCaller: 10, healthWatchesMax: 2 });
    const open = [l.client()(), l.client()('dcm.v1.LogicalCloudService')];
    for (const s of open) await firstMessage(s);
    const refused = await refusal(l.client()());
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/at most 2 health Watch streams are open at once \(DCM_GRPC_HEALTH_WATCHES_MAX\)/);
    for (const s of open) await cancel(s);
    await until(() => l.server.activeWatches() === 0, 'the health watches to close');
  });

  it('keeps the server memory flat over many refused Watch attempts', async () => {
    const l = await limited({ watchStreamsPerCaller: 2, healthWatchesMax: 100 });
    const watch = l.client();
    const held = [watch(), watch()];
    for (const s of held) await firstMessage(s);
    const gc = collector();
    const attempts = async (count: number) => {
      for (let done = 0; done < count; done += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, count - done) }, () => refusal(watch())));
        for (const r of batch) expect(r.code).toBe(status.RESOURCE_EXHAUSTED);
      }
    };
    // Warm up as long as the measured run (lazy compilation, grpc-js's caches, the heap and the
    // allocator growing to their working size), then measure a run as long again.
    await attempts(3_000);
    gc();
    const before = process.memoryUsage();
    await attempts(3_000);
    gc();
    const after = process.memoryUsage();

    // Nothing is kept of a refused stream: the counts are those of the two held ones.
    expect(l.server.activeWatches()).toBe(2);
    expect(l.server.healthWatchPeers()).toBe(1);
    // Generous bounds: a leak of even 3 KiB per refused stream would be 9 MB on the heap.
    expect(after.heapUsed - before.heapUsed).toBeLessThan(8 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024);
    for (const s of held) await cancel(s);
  });

  it('puts max concurrent streams, keepalive pings and the idle limit on the HTTP/2 connection', async () => {
    const l = await limited({ maxConcurrentStreams: 7, keepaliveTimeMs: 50, maxConnectionIdleMs: 200 });
    const session = http2.connect(`http://127.0.0.1:${l.port}`);
    session.on('error', () => undefined);
    const settings = new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
    const pinged = new Promise<void>((resolve) => session.once('ping', () => resolve()));
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    expect((await settings).maxConcurrentStreams).toBe(7);
    // The server pings a quiet connection, and closes it once it has been idle (no call) for the limit.
    await pinged;
    await closed;
    expect(session.closed || session.destroyed).toBe(true);
  });

  it('ends a connection at its maximum age (and the grace after it), freeing its health watches', async () => {
    const l = await limited({ maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 200, maxConnectionIdleMs: 86_400_000 });
    const stream = l.client()();
    await firstMessage(stream);
    const ended = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL]).toContain(ended.code);
    await until(
      () => l.server.activeWatches() === 0 && l.server.healthWatchPeers() === 0,
      'the cut watch to be released',
    );
  });
});
