/**
 * Failed authentication and authorization, with their REST status and gRPC code in one
 * table (they are answered before a request reaches the service layer, so they are not
 * DomainErrors).
 */
import grpc from '@grpc/grpc-js';

export type AuthFailure = 'unauthenticated' | 'permission-denied' | 'unavailable';

export const AUTH_HTTP_STATUS: Record<AuthFailure, number> = {
  unauthenticated: 401,
  'permission-denied': 403,
  unavailable: 503,
};
export const AUTH_GRPC_STATUS: Record<AuthFailure, grpc.status> = {
  unauthenticated: grpc.status.UNAUTHENTICATED,
  'permission-denied': grpc.status.PERMISSION_DENIED,
  unavailable: grpc.status.UNAVAILABLE,
};
const NAMES: Record<AuthFailure, string> = {
  unauthenticated: 'Unauthenticated',
  'permission-denied': 'PermissionDenied',
  unavailable: 'Unavailable',
};

export class AuthError extends Error {
  constructor(
    readonly failure: AuthFailure,
    message: string,
    /** RFC 6750 error code for WWW-Authenticate (`invalid_token`, `insufficient_scope`). */
    readonly bearerError?: 'invalid_token' | 'insufficient_scope',
  ) {
    super(message);
    this.name = NAMES[failure];
  }
}

export const unauthenticated = (message: string, invalidToken = true) =>
  new AuthError('unauthenticated', message, invalidToken ? 'invalid_token' : undefined);
