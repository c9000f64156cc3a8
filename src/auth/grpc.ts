/**
 * Authentication and authorization of the gRPC API: a server interceptor that reads
 * `authorization: Bearer …` from the call's metadata and decides with the same gate and
 * rules as REST before the request reaches a handler (also for WatchStatus). Health and
 * reflection stay open. It also gives every call a request id (`x-request-id` metadata,
 * echoed back) and reports every finished call (code, duration, caller) to an observer,
 * for metrics and audit.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import grpc from '@grpc/grpc-js';
import type { ServerInterceptor, StatusObject } from '@grpc/grpc-js';
import { LOGICAL_CLOUD_SERVICE, STATUS_NOTIFY_SERVICE } from '../grpc/proto.js';
import type { Action, Operation, Principal } from './authorize.js';
import { attachPrincipal } from './call-principal.js';
import { AUTH_GRPC_STATUS, AuthError } from './errors.js';
import type { AccessGate, RequestContext } from './gate.js';

type Message = Record<string, unknown>;

const CRUD =
  /^(Create|Get|List|Update|Delete)(LogicalClouds?|ClusterReferences?|UserPermissions?|ClusterQuotas?|OverallQuotas?|KvPairs?)$/;
const ONE_OPERATION: Record<string, Operation> = {
  Apply: 'lifecycle',
  Terminate: 'lifecycle',
  RotateCa: 'lifecycle',
  GetStatus: 'status',
  WatchStatus: 'status',
  GetKubeconfig: 'kubeconfig',
  GetLogicalCloudCa: 'read',
  GetClusterSelection: 'read',
  RevokeCredentials: 'lifecycle',
};
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** What a call of dcm.v1.LogicalCloudService does, from its method and request message. */
export function grpcAction(method: string, request: Message): Action {
  if (method === 'GetRootCa') return { resource: 'ca-root', operation: 'read' };
  if (method === 'GetClusterStatus') return { resource: 'cluster-registry', operation: 'read' };
  if (method === 'UpdateCluster') return { resource: 'cluster-registry', operation: 'write' };
  const project = text(request.project);
  if (method === 'GetProjectPolicy') return { resource: 'project-policy', project, operation: 'read' };
  if (method === 'SetProjectPolicy' || method === 'ResetProjectPolicy')
    return { resource: 'project-policy', project, operation: 'write' };
  const single = ONE_OPERATION[method];
  if (single)
    return { resource: 'logical-cloud', project, logicalCloud: text(request.logical_cloud), operation: single };
  const crud = CRUD.exec(method);
  if (!crud) return { resource: 'unknown', description: `call ${LOGICAL_CLOUD_SERVICE}/${method}` };
  const [, verb, noun] = crud;
  const operation = verb === 'Get' || verb === 'List' ? 'read' : 'write';
  if (noun!.startsWith('LogicalCloud')) {
    if (verb === 'Create' || verb === 'List') return { resource: 'logical-clouds', project, operation };
    return { resource: 'logical-cloud', project, logicalCloud: text(request.name), operation };
  }
  return { resource: 'logical-cloud', project, logicalCloud: text(request.logical_cloud), operation };
}

/**
 * What a call of EMCO's StatusNotify does: a registration for a logical cloud (lcKey) reads its
 * status, like WatchStatus. Undefined (any authenticated caller): a deregistration, which ends
 * only the caller's own streams, and a registration without lcKey, which the handler refuses
 * as INVALID_ARGUMENT naming the key before it reads anything.
 */
export function statusNotifyAction(method: string, request: Message): Action | undefined {
  if (method === 'StatusDeregister') return undefined;
  if (method !== 'StatusRegister')
    return { resource: 'unknown', description: `call ${STATUS_NOTIFY_SERVICE}/${method}` };
  if (request.key !== 'lcKey') return undefined;
  const key = (request.lcKey ?? {}) as Message;
  return {
    resource: 'logical-cloud',
    project: text(key.project),
    logicalCloud: text(key.logicalCloud),
    operation: 'status',
  };
}

/** A finished call, as the observer (metrics, audit) gets it. */
export interface GrpcCallRecord {
  service: string;
  method: string;
  code: grpc.status;
  seconds: number;
  requestId: string;
  /** Of calls to the guarded service that got as far as naming their caller. */
  principal?: Principal;
  action?: Action;
  request?: Message;
}

export type GrpcCallObserver = (record: GrpcCallRecord) => void;

export function grpcInterceptor(gate: AccessGate, observe: GrpcCallObserver = () => undefined): ServerInterceptor {
  return (descriptor, call) => {
    const started = performance.now();
    const [, service = '', method = ''] = /^\/([^/]+)\/([^/]+)$/.exec(descriptor.path) ?? [];
    const guarded = service === LOGICAL_CLOUD_SERVICE || service === STATUS_NOTIFY_SERVICE;
    const record: Omit<GrpcCallRecord, 'code' | 'seconds'> = { service, method, requestId: randomUUID() };
    const context = (): RequestContext => ({ transport: 'grpc', requestId: record.requestId, method: descriptor.path });
    let authenticated: Promise<Principal> | undefined;
    let requestMetadata: grpc.Metadata | undefined;
    let headersSent = false;
    let finished = false;
    const finish = (code: grpc.status) => {
      if (finished) return;
      finished = true;
      observe({ ...record, code, seconds: (performance.now() - started) / 1000 });
    };
    const deadlinePassed = () => {
      const deadline = call.getDeadline();
      const ms = deadline instanceof Date ? deadline.getTime() : deadline;
      return Number.isFinite(ms) && ms <= Date.now();
    };

    const intercepted: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const given = metadata.get('x-request-id')[0];
            if (typeof given === 'string' && REQUEST_ID.test(given)) record.requestId = given;
            requestMetadata = metadata;
            if (guarded) {
              const header = metadata.get('authorization')[0];
              authenticated = gate.authenticate(typeof header === 'string' ? header : undefined, context());
              // Answered when the request arrives (below); nothing is left unhandled meanwhile.
              authenticated.catch(() => undefined);
            }
            nextMetadata(metadata);
          },
          onReceiveMessage: (message: Message, nextMessage) => {
            if (!guarded) {
              nextMessage(message);
              return;
            }
            record.request = message;
            const action =
              service === STATUS_NOTIFY_SERVICE ? statusNotifyAction(method, message) : grpcAction(method, message);
            if (action) record.action = action;
            (authenticated ?? gate.authenticate(undefined, context()))
              .then((principal) => {
                record.principal = principal;
                if (action) gate.authorize(principal, action, context());
                // The handler reads its caller from the metadata (src/auth/call-principal.ts).
                if (requestMetadata) attachPrincipal(requestMetadata, principal);
                nextMessage(message);
              })
              .catch((error: unknown) => {
                const refusal: Pick<StatusObject, 'code' | 'details'> =
                  error instanceof AuthError
                    ? { code: AUTH_GRPC_STATUS[error.failure], details: error.message }
                    : { code: grpc.status.INTERNAL, details: 'internal error' };
                intercepted.sendStatus(refusal);
              });
          },
          // Also called once the status is sent; before that it means the client went away or the deadline passed.
          onCancel: () => finish(deadlinePassed() ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED),
        }),
      sendMetadata: (metadata, next) => {
        headersSent = true;
        metadata.set('x-request-id', record.requestId);
        next(metadata);
      },
      sendStatus: (status, next) => {
        finish(status.code);
        if (headersSent) {
          next(status);
          return;
        }
        const metadata = status.metadata?.clone() ?? new grpc.Metadata();
        metadata.set('x-request-id', record.requestId);
        next({ ...status, metadata });
      },
    });
    return intercepted;
  };
}
