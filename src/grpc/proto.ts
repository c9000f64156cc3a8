/**
 * The DCM's protos, loaded once: `proto/` at the root of the repository (and of the image),
 * found from this module whether it runs from src/ (tsx, tests) or dist/ (production).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';

function findProtoDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'dcm', 'v1', 'dcm.proto'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('proto/dcm/v1/dcm.proto not found next to the DCM');
}

export const PROTO_DIR = findProtoDir();

/** The DCM's gRPC service (package dcm.v1). */
export const LOGICAL_CLOUD_SERVICE = 'dcm.v1.LogicalCloudService';

/** EMCO's StatusNotify (proto/statusnotify.proto, no proto package): logical clouds watched as EMCO's services do. */
export const STATUS_NOTIFY_SERVICE = 'StatusNotify';

export const PROTO_FILES = ['dcm/v1/dcm.proto', 'grpc/health/v1/health.proto', 'statusnotify.proto'];

/**
 * Field names as in the .proto (snake_case), 64-bit integers as numbers, enums as their
 * names, unset fields with their defaults, and `kind` naming the member set in a oneof
 * (google.protobuf.Value). Clients should load with the same options.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
}

export interface DcmProto {
  packageDefinition: protoLoader.PackageDefinition;
  LogicalCloudService: ServiceClientConstructor;
  Health: ServiceClientConstructor;
  StatusNotify: ServiceClientConstructor;
}

export function loadDcmProto(): DcmProto {
  const packageDefinition = loadPackageDefinition();
  const root = grpc.loadPackageDefinition(packageDefinition);
  const pkg = (name: string) => name.split('.').reduce((o, part) => o[part] as GrpcObject, root);
  return {
    packageDefinition,
    LogicalCloudService: pkg('dcm.v1').LogicalCloudService as ServiceClientConstructor,
    Health: pkg('grpc.health.v1').Health as ServiceClientConstructor,
    StatusNotify: root[STATUS_NOTIFY_SERVICE] as ServiceClientConstructor,
  };
}
