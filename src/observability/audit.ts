/**
 * The audit trail: one log line (`audit: true`, logger `audit`) for every mutation, REST
 * POST/PUT/PATCH/DELETE and mutating RPC, allowed or refused: who (the principal's name,
 * never a token), what (method, route, path, project and logical cloud), the result and the
 * request id. Kubeconfig downloads (REST GET …/kubeconfig, gRPC GetKubeconfig), served or
 * refused, get one too (`event: "kubeconfig-download"`, with the cluster reference asked for),
 * never with the kubeconfig itself.
 */
import grpc from '@grpc/grpc-js';
import type { Action, Principal } from '../auth/authorize.js';
import type { GrpcCallRecord } from '../auth/grpc.js';
import type { Logger } from '../logger.js';

export const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface HttpAuditEntry {
  requestId: string;
  principal?: Principal;
  action?: Action;
  method: string;
  route: string;
  path: string;
  status: number;
  /** Of a kubeconfig download: the one cluster reference asked for (undefined: every cluster of the logical cloud). */
  clusterReference?: string;
}

/** Whether the action is the download of a logical cloud's kubeconfig. */
const isDownload = (action: Action | undefined): boolean =>
  action?.resource === 'logical-cloud' && action.operation === 'kubeconfig';
/** The cluster reference(s) a download was for: one, or all of them. */
const references = (reference: string | undefined) => ({
  clusterReferences: reference ? [reference.length > 130 ? `${reference.slice(0, 128)}…` : reference] : 'all',
});

const who = (principal: Principal | undefined) =>
  principal ? { name: principal.name, source: principal.source } : null;
const scope = (action: Action | undefined) =>
  action && 'project' in action
    ? { project: action.project, ...('logicalCloud' in action ? { logicalCloud: action.logicalCloud } : {}) }
    : {};

export class AuditLog {
  private readonly log: Logger;

  constructor(logger: Logger) {
    // Audit lines are written at info also when the service logs only warnings; silent stays silent.
    const level = logger.level === 'silent' || logger.levelVal <= 30 ? logger.level : 'info';
    this.log = logger.child({ name: 'audit', audit: true }, { level });
  }

  http(entry: HttpAuditEntry): void {
    if (isDownload(entry.action)) {
      this.log.info(
        {
          transport: 'http',
          event: 'kubeconfig-download',
          reqId: entry.requestId,
          principal: who(entry.principal),
          method: entry.method,
          route: entry.route,
          path: entry.path,
          ...scope(entry.action),
          ...references(entry.clusterReference),
          status: entry.status,
          outcome: entry.status < 400 ? 'success' : 'failure',
        },
        `kubeconfig download ${entry.status}`,
      );
      return;
    }
    if (!MUTATING_METHODS.has(entry.method)) return;
    this.log.info(
      {
        transport: 'http',
        reqId: entry.requestId,
        principal: who(entry.principal),
        method: entry.method,
        route: entry.route,
        path: entry.path,
        ...scope(entry.action),
        status: entry.status,
        outcome: entry.status < 400 ? 'success' : 'failure',
      },
      `${entry.method} ${entry.route} ${entry.status}`,
    );
  }

  grpc(call: GrpcCallRecord): void {
    if (isDownload(call.action)) {
      const code = grpc.status[call.code] ?? String(call.code);
      const reference =
        typeof call.request?.cluster_reference === 'string' && call.request.cluster_reference !== ''
          ? call.request.cluster_reference
          : undefined;
      this.log.info(
        {
          transport: 'grpc',
          event: 'kubeconfig-download',
          reqId: call.requestId,
          principal: who(call.principal),
          method: `${call.service}/${call.method}`,
          ...scope(call.action),
          ...references(reference),
          code,
          outcome: call.code === grpc.status.OK ? 'success' : 'failure',
        },
        `kubeconfig download ${code}`,
      );
      return;
    }
    const operation = call.action && 'operation' in call.action ? call.action.operation : undefined;
    const mutating =
      operation === 'write' ||
      operation === 'lifecycle' ||
      (call.action?.resource === 'unknown' && !/^(Get|List|Watch)/.test(call.method));
    if (!mutating) return;
    const code = grpc.status[call.code] ?? String(call.code);
    const name = typeof call.request?.name === 'string' && call.request.name !== '' ? { name: call.request.name } : {};
    this.log.info(
      {
        transport: 'grpc',
        reqId: call.requestId,
        principal: who(call.principal),
        method: `${call.service}/${call.method}`,
        ...scope(call.action),
        ...name,
        code,
        outcome: call.code === grpc.status.OK ? 'success' : 'failure',
      },
      `${call.method} ${code}`,
    );
  }
}
