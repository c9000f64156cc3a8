/**
 * The audit trail: one log line (`audit: true`, logger `audit`) for every mutation, REST
 * POST/PUT/PATCH/DELETE and mutating RPC, allowed or refused: who (the principal's name,
 * never a token), what (method, route, path, project and logical cloud), the result and the
 * request id.
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
}

const who = (principal: Principal | undefined) => (principal ? { name: principal.name, source: principal.source } : null);
const scope = (action: Action | undefined) =>
  action && 'project' in action ? { project: action.project, ...('logicalCloud' in action ? { logicalCloud: action.logicalCloud } : {}) } : {};

export class AuditLog {
  private readonly log: Logger;

  constructor(logger: Logger) {
    // Audit lines are written at info also when the service logs only warnings; silent stays silent.
    const level = logger.level === 'silent' || logger.levelVal <= 30 ? logger.level : 'info';
    this.log = logger.child({ name: 'audit', audit: true }, { level });
  }

  http(entry: HttpAuditEntry): void {
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
    const operation = call.action && 'operation' in call.action ? call.action.operation : undefined;
    const mutating = operation === 'write' || operation === 'lifecycle' || (call.action?.resource === 'unknown' && !/^(Get|List|Watch)/.test(call.method));
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
