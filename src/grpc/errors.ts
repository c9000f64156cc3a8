/**
 * The one table from DomainError kinds to gRPC status codes (REST has its own in
 * http-errors.ts). Field problems of an INVALID_ARGUMENT travel in the message and, in
 * Google's richer error model, as a google.rpc.BadRequest in `grpc-status-details-bin`.
 */
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import type { Metadata, ServiceError, StatusObject } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { DomainError, type ErrorKind, type FieldProblem } from '../errors.js';
import type { Logger } from '../logger.js';
import { PROTO_DIR } from './proto.js';

const { status } = grpc;

export const GRPC_STATUS: Record<ErrorKind, grpc.status> = {
  'invalid-input': status.INVALID_ARGUMENT,
  'not-supported': status.INVALID_ARGUMENT,
  forbidden: status.PERMISSION_DENIED,
  'not-found': status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  'precondition-failed': status.FAILED_PRECONDITION,
  'failed-precondition': status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const rpc = new protobuf.Root().loadSync(path.join(PROTO_DIR, 'google/rpc/status.proto'), { keepCase: true });
const RpcStatus = rpc.lookupType('google.rpc.Status');
const BadRequest = rpc.lookupType('google.rpc.BadRequest');
const BAD_REQUEST_URL = 'type.googleapis.com/google.rpc.BadRequest';

export type GrpcError = Partial<StatusObject> & { code: grpc.status; details: string };

function statusDetails(code: grpc.status, message: string, problems: FieldProblem[]): Buffer {
  const badRequest = BadRequest.encode(
    BadRequest.fromObject({ field_violations: problems.map((p) => ({ field: p.field, description: p.message })) }),
  ).finish();
  return Buffer.from(
    RpcStatus.encode(
      RpcStatus.fromObject({ code, message, details: [{ type_url: BAD_REQUEST_URL, value: badRequest }] }),
    ).finish(),
  );
}

/** The gRPC status of an error: a DomainError by its kind; anything else INTERNAL, saying nothing of the internals (the log has them). */
export function toGrpcError(error: unknown, logger: Logger, method: string): GrpcError {
  if (error instanceof DomainError) {
    const code = GRPC_STATUS[error.kind];
    if (code === status.INTERNAL) logger.error({ err: error, method }, 'gRPC call failed');
    else if (code === status.UNAVAILABLE) logger.warn({ method, message: error.message }, 'gRPC call unavailable');
    const result: GrpcError = { code, details: error.message };
    if (error.details.length > 0) {
      const metadata = new grpc.Metadata();
      metadata.set(STATUS_DETAILS_KEY, statusDetails(code, error.message, error.details));
      result.metadata = metadata;
    }
    return result;
  }
  logger.error({ err: error, method }, 'unhandled error in gRPC call');
  return { code: status.INTERNAL, details: 'internal error' };
}

/** The field violations of an error a client received (for clients and tests). */
export function fieldViolations(error: Pick<ServiceError, 'metadata'>): { field: string; description: string }[] {
  const raw = (error.metadata as Metadata | undefined)?.get(STATUS_DETAILS_KEY)[0];
  if (!raw || typeof raw === 'string') return [];
  const decoded = RpcStatus.toObject(RpcStatus.decode(raw)) as { details?: { type_url: string; value: Uint8Array }[] };
  return (decoded.details ?? [])
    .filter((d) => d.type_url === BAD_REQUEST_URL)
    .flatMap(
      (d) =>
        (
          BadRequest.toObject(BadRequest.decode(d.value)) as {
            field_violations?: { field: string; description: string }[];
          }
        ).field_violations ?? [],
    );
}
