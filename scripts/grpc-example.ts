/**
 * A small client of the DCM's gRPC API: health, create a logical cloud and a kv-pair, read
 * them back, the status, and a short WatchStatus. Against a running DCM (`npm start`):
 *
 *   npx tsx scripts/grpc-example.ts
 *
 * DCM_GRPC_ADDRESS (default 127.0.0.1:9078) and DCM_HTTP_URL (default http://127.0.0.1:9077,
 * used only to create the project, which the gRPC API does not manage) point elsewhere.
 */
import grpc from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { fieldViolations } from '../src/grpc/errors.js';
import { loadDcmProto } from '../src/grpc/proto.js';
import { fromStruct, toStruct, type ProtoStruct } from '../src/grpc/struct.js';

const address = process.env.DCM_GRPC_ADDRESS ?? '127.0.0.1:9078';
const httpUrl = process.env.DCM_HTTP_URL ?? 'http://127.0.0.1:9077';
const project = 'grpc-example';
const logicalCloud = 'lc-example';

const proto = loadDcmProto();
const dcm = new proto.LogicalCloudService(address, grpc.credentials.createInsecure());
const health = new proto.Health(address, grpc.credentials.createInsecure());

/** One unary call, promisified, with a 5-second deadline. */
function call<T>(client: Client, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (
      client as unknown as Record<
        string,
        (r: object, o: grpc.CallOptions, cb: (e: ServiceError | null, r: T) => void) => void
      >
    )[method]!;
    fn.call(client, request, { deadline: Date.now() + 5000 }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

async function main(): Promise<void> {
  console.log('health:', await call(health, 'Check', { service: 'dcm.v1.LogicalCloudService' }));

  const res = await fetch(`${httpUrl}/v2/projects`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { name: project } }),
  });
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`creating project ${project} over REST answered ${res.status}`);

  // Bodies are the REST bodies, carried as google.protobuf.Struct.
  const body = {
    metadata: { name: logicalCloud, description: 'made by scripts/grpc-example.ts' },
    spec: {
      namespace: 'ns-example',
      user: {
        'user-name': 'user-example',
        'user-permissions': [
          { 'permission-name': 'cm', apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
        ],
      },
    },
  };
  const created = await call<{ name: string; revision: number; body: ProtoStruct }>(dcm, 'CreateLogicalCloud', {
    project,
    body: toStruct(body),
  });
  console.log('created:', created.name, 'revision', created.revision, fromStruct(created.body));

  await call(dcm, 'CreateKvPair', {
    project,
    logical_cloud: logicalCloud,
    body: toStruct({ metadata: { name: 'kv-1' }, spec: { kv: [{ key1: 'val1' }, { replicas: 3 }] } }),
  });
  const kvs = await call<{ items: { name: string; body: ProtoStruct }[]; total: number }>(dcm, 'ListKvPairs', {
    project,
    logical_cloud: logicalCloud,
  });
  console.log(
    'kv-pairs:',
    kvs.total,
    kvs.items.map((i) => fromStruct(i.body)),
  );

  // A bad body: INVALID_ARGUMENT naming the field, also as a google.rpc.BadRequest.
  try {
    await call(dcm, 'CreateKvPair', {
      project,
      logical_cloud: logicalCloud,
      body: toStruct({ metadata: { name: 'kv-2' }, spec: { kv: 'oops' } }),
    });
  } catch (error) {
    const e = error as ServiceError;
    console.log('invalid:', grpc.status[e.code], e.details, fieldViolations(e));
  }

  const status = await call<{ state: string; status: string }>(dcm, 'GetStatus', {
    project,
    logical_cloud: logicalCloud,
  });
  console.log('status:', status.state, `(${status.status})`);

  // WatchStatus: the current status first, then every change; here we stop after the first.
  await new Promise<void>((resolve, reject) => {
    const watchStatus = (
      dcm as unknown as Record<string, (r: object) => grpc.ClientReadableStream<{ state: string; status: string }>>
    ).WatchStatus!;
    const watch = watchStatus.call(dcm, { project, logical_cloud: logicalCloud });
    watch.on('data', (m: { state: string; status: string }) => {
      console.log('watch:', m.state, `(${m.status})`);
      watch.cancel();
    });
    watch.on('error', (e: ServiceError) => (e.code === grpc.status.CANCELLED ? resolve() : reject(e)));
  });

  await call(dcm, 'DeleteLogicalCloud', { project, name: logicalCloud });
  console.log('deleted', logicalCloud);
}

main()
  .catch((error: unknown) => {
    console.error('example failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => {
    dcm.close();
    health.close();
  });
