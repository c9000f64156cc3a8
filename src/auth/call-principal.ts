/**
 * The caller of a gRPC call, as the access interceptor established it, for the handler to
 * read: keyed by the call's request metadata object, which grpc-js hands from the
 * interceptor to the handler unchanged. A call no interceptor named gets a caller with no
 * rights (never an admin).
 */
import { UNSCOPED_PRINCIPAL, type Principal } from './authorize.js';

const principals = new WeakMap<object, Principal>();

export function attachPrincipal(metadata: object, principal: Principal): void {
  principals.set(metadata, principal);
}

export const principalOfCall = (metadata: object | undefined): Principal =>
  (metadata && principals.get(metadata)) || UNSCOPED_PRINCIPAL;
