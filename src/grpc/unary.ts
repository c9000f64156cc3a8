/**
 * What every unary handler of dcm.v1 shares: the request as a plain record, the fields it must
 * carry, and the wrapper that runs the work for the caller and maps its outcome to a gRPC answer.
 */
import grpc from '@grpc/grpc-js';
import type { ServerUnaryCall, handleUnaryCall } from '@grpc/grpc-js';
import type { Principal } from '../auth/authorize.js';
import { principalOfCall } from '../auth/call-principal.js';
import { InvalidInputError } from '../errors.js';
import { DownloadRateLimitedError } from '../features/lifecycle/tenant-kubeconfig.js';
import type { Logger } from '../logger.js';
import { NUL_MESSAGE, nulCharacterAt } from '../validation/nul-characters.js';
import { toGrpcError } from './errors.js';

export type Request = Record<string, unknown>;

/** A unary handler made of the work it does for the caller. */
export type Unary = <Req extends Request, Res>(
  method: string,
  work: (request: Req, caller: Principal) => Promise<Res>,
) => handleUnaryCall<Req, Res>;

/** A request with a NUL character anywhere is refused naming the field (src/validation/nul-characters.ts). */
export function refuseNulCharacters(request: unknown): void {
  const at = nulCharacterAt(request);
  if (at) throw InvalidInputError.forFields([{ field: at, message: NUL_MESSAGE }]);
}

/** Request fields that must not be empty, named as in the .proto. */
export function requireFields(request: Request, fields: string[]): void {
  refuseNulCharacters(request);
  const missing = fields.filter((f) => typeof request[f] !== 'string' || request[f] === '');
  if (missing.length === 0) return;
  throw InvalidInputError.forFields(missing.map((field) => ({ field, message: 'is required' })));
}

/** The scope fields of a resource inside a logical cloud. */
export const LOGICAL_CLOUD_FIELDS = ['project', 'logical_cloud'];

type ServerSurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'cancelled' | 'getDeadline'>;

/** Whether a call's deadline has passed (grpc-js then answers DEADLINE_EXCEEDED itself). */
function expired(call: ServerSurfaceCall): boolean {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) && ms <= Date.now();
}

/** A call whose answer nobody waits for any more: cancelled by the client, or past its deadline. */
const gone = (call: ServerSurfaceCall) => call.cancelled || expired(call);

/** Unary handlers that refuse to start after a cancel or a passed deadline, and never answer a cancelled call. */
export const unaryHandlers =
  (logger: Logger): Unary =>
  <Req extends Request, Res>(method: string, work: (request: Req, caller: Principal) => Promise<Res>) =>
  (call: ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    // Nothing is started for a call that is already over.
    if (gone(call)) return;
    new Promise<Res>((resolve) => {
      refuseNulCharacters(call.request);
      resolve(work(call.request, principalOfCall(call.metadata)));
    }).then(
      (response) => {
        if (!gone(call)) callback(null, response);
      },
      (error: unknown) => {
        if (gone(call)) return;
        if (error instanceof DownloadRateLimitedError) {
          const trailers = new grpc.Metadata();
          trailers.set('retry-after', String(error.retryAfterSeconds));
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: error.message, metadata: trailers });
          return;
        }
        callback(toGrpcError(error, logger, method));
      },
    );
  };
