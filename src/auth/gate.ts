/**
 * The access gate both APIs pass through: `authenticate(Authorization value) → Principal`
 * and `authorize(principal, action)`, logging every refusal (warn) with the request id and
 * at most a fingerprint of the token — never the token.
 */
import type { Logger } from '../logger.js';
import { authorize, DEVELOPMENT_PRINCIPAL, type Action, type Principal } from './authorize.js';
import { AuthError, unauthenticated } from './errors.js';
import { OidcAuthenticator } from './oidc.js';
import { bearerToken, tokenFingerprint, type StaticTokens } from './static-tokens.js';

/**
 * How a DCM authenticates: `development` (no authentication, every caller is an admin named
 * `development`; only with DCM_DEVELOPMENT_MODE, and what tests compose by default) or
 * `enforced` with static tokens and/or OIDC.
 */
export type AuthSetup = { mode: 'development' } | { mode: 'enforced'; tokens?: StaticTokens; oidc?: OidcAuthenticator };

/** Where a request came from, for the log line of a refusal. */
export interface RequestContext {
  transport: 'http' | 'grpc';
  requestId: string;
  /** HTTP method and path, or the gRPC method. */
  method: string;
  path?: string;
}

export class AccessGate {
  private readonly log: Logger;

  constructor(
    private readonly setup: AuthSetup,
    logger: Logger,
  ) {
    this.log = logger.child({ name: 'auth' });
  }

  get enforced(): boolean {
    return this.setup.mode === 'enforced';
  }

  /** The caller, from the value of the Authorization header (or `authorization` metadata). */
  async authenticate(header: string | undefined, context: RequestContext): Promise<Principal> {
    if (this.setup.mode === 'development') return DEVELOPMENT_PRINCIPAL;
    if (header === undefined || header === '') {
      throw this.refused(
        context,
        unauthenticated('authentication required: send the header Authorization: Bearer <token>', false),
      );
    }
    const token = bearerToken(header);
    if (token === undefined)
      throw this.refused(context, unauthenticated('the Authorization header must be "Bearer <token>"', false));
    try {
      const known = this.setup.tokens?.lookup(token);
      if (known) return known;
      if (this.setup.oidc && OidcAuthenticator.looksLikeJwt(token)) return await this.setup.oidc.authenticate(token);
      throw unauthenticated('the bearer token is not valid');
    } catch (error) {
      if (error instanceof AuthError) throw this.refused(context, error, { token: tokenFingerprint(token) });
      throw error;
    }
  }

  /** Throws PermissionDenied (403, PERMISSION_DENIED) unless the principal may do the action. */
  authorize(principal: Principal, action: Action, context: RequestContext): void {
    const decision = authorize(principal, action);
    if (!decision.allowed) {
      throw this.refused(
        context,
        new AuthError('permission-denied', `permission denied: ${decision.reason}`, 'insufficient_scope'),
        {
          principal: principal.name,
          source: principal.source,
        },
      );
    }
  }

  private refused(context: RequestContext, error: AuthError, extra: Record<string, string> = {}): AuthError {
    const { transport, requestId, method, path } = context;
    this.log.warn(
      { transport, reqId: requestId, method, path, failure: error.failure, reason: error.message, ...extra },
      'request refused',
    );
    return error;
  }
}
