/** A real grpc-js client of the gRPC API of a test DCM, served on a free port of 127.0.0.1. */
import grpc from '@grpc/grpc-js';
import type { CallOptions, Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { createDcmGrpcServer } from '../../src/composition-root.js';
import type { DcmGrpcServer } from '../../src/grpc/server.js';
import { loadDcmProto } from '../../src/grpc/proto.js';
import { fromStruct, toStruct, type ProtoStruct } from '../../src/grpc/struct.js';
import type { TestDcm } from './dcm.js';

export interface GrpcResource {
  name: string;
  revision: number;
  body: ProtoStruct;
}

export interface TestGrpc {
  server: DcmGrpcServer;
  port: number;
  client: Client;
  health: Client;
  /** A unary call, promisified (metadata: e.g. `bearer(token)`). */
  call<T = Record<string, unknown>>(
    method: string,
    request: Record<string, unknown>,
    options?: CallOptions,
    metadata?: grpc.Metadata,
  ): Promise<T>;
  /** A server stream. */
  stream<T>(
    method: string,
    request: Record<string, unknown>,
    options?: CallOptions,
    metadata?: grpc.Metadata,
  ): ClientReadableStream<T>;
  close(): Promise<void>;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: CallOptions,
  callback: (error: ServiceError | null, response: unknown) => void,
) => void;
type StreamMethod = (request: unknown, metadata: grpc.Metadata, options: CallOptions) => ClientReadableStream<unknown>;

export async function startTestGrpc(t: TestDcm): Promise<TestGrpc> {
  const server = createDcmGrpcServer(t.dcm, {
    logger: pino({ level: process.env.DCM_TEST_LOG_LEVEL ?? 'silent' }),
    ready: async () => true,
  });
  const port = await server.listen('127.0.0.1', 0);
  const proto = loadDcmProto();
  const address = `127.0.0.1:${port}`;
  const client = new proto.LogicalCloudService(address, grpc.credentials.createInsecure());
  const health = new proto.Health(address, grpc.credentials.createInsecure());
  const target = (method: string): Client => (method.startsWith('Health.') ? health : client);
  const name = (method: string) => method.replace(/^Health\./, '');
  return {
    server,
    port,
    client,
    health,
    call: <T>(
      method: string,
      request: Record<string, unknown>,
      options: CallOptions = {},
      metadata = new grpc.Metadata(),
    ) =>
      new Promise<T>((resolve, reject) => {
        const c = target(method) as unknown as Record<string, UnaryMethod>;
        c[name(method)]!.call(c, request, metadata, options, (error, response) =>
          error ? reject(error) : resolve(response as T),
        );
      }),
    stream: <T>(
      method: string,
      request: Record<string, unknown>,
      options: CallOptions = {},
      metadata = new grpc.Metadata(),
    ) => {
      const c = target(method) as unknown as Record<string, StreamMethod>;
      return c[name(method)]!.call(c, request, metadata, options) as ClientReadableStream<T>;
    },
    close: async () => {
      client.close();
      health.close();
      await server.shutdown(5_000);
    },
  };
}

/** Call metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** The error a call failed with (fails the test if it succeeded). */
export async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

export const struct = toStruct;
export const json = (s: ProtoStruct | null | undefined) => fromStruct(s) as Record<string, unknown>;

/** Resolves once the condition holds, checking after every turn of the event loop (no fixed sleeps). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
