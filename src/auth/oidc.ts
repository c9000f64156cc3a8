/**
 * OIDC bearer tokens: JWTs verified with `jose` against the issuer's key set (JWKS, fetched
 * and cached; from DCM_OIDC_JWKS_URL or the issuer's discovery document), checking issuer,
 * audience, expiry and signature. Roles and scopes come from configurable claims.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Principal } from './authorize.js';
import { AuthError, unauthenticated } from './errors.js';

export interface OidcOptions {
  issuer: string;
  audience: string;
  /** When not given, the `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string;
  /** Claim (or dotted path) holding roles; `admin` among them makes an admin. */
  rolesClaim: string;
  /** Claim holding the projects the caller manages. */
  projectsClaim: string;
  /** Claim holding `project/logicalCloud` entries whose status and kubeconfig the caller may read. */
  logicalCloudsClaim: string;
  /** Claim naming the caller in audit and logs. */
  nameClaim: string;
  clockToleranceSeconds: number;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** The key set could not be fetched: not the caller's fault (503, UNAVAILABLE). */
class KeySetUnavailable extends Error {}

/** A claim by its exact name, else by a dotted path (`realm_access.roles`). */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A list claim: an array of strings, or one string of names separated by spaces or commas. */
function names(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

export class OidcAuthenticator {
  private keySet: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly options: OidcOptions) {}

  /** Whether a token is shaped like a JWT (three base64url parts), i.e. worth verifying here. */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
  }

  async authenticate(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keys(), {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw this.refusal(error);
    }
    const name = claim(payload, this.options.nameClaim);
    if (typeof name !== 'string' || name === '')
      throw unauthenticated(`the bearer token has no "${this.options.nameClaim}" claim naming the caller`);
    return {
      name,
      source: 'oidc',
      admin: names(claim(payload, this.options.rolesClaim)).includes('admin'),
      projects: new Set(names(claim(payload, this.options.projectsClaim))),
      logicalClouds: new Set(
        names(claim(payload, this.options.logicalCloudsClaim)).filter((n) => /^[^/]+\/[^/]+$/.test(n)),
      ),
    };
  }

  private refusal(error: unknown): AuthError {
    if (error instanceof AuthError) return error;
    if (error instanceof KeySetUnavailable)
      return new AuthError('unavailable', `cannot verify the bearer token now: ${error.message}`);
    if (error instanceof errors.JWTExpired) return unauthenticated('the bearer token has expired');
    if (error instanceof errors.JWTClaimValidationFailed)
      return unauthenticated(`the bearer token was refused: ${error.message}`);
    if (
      error instanceof errors.JWSSignatureVerificationFailed ||
      error instanceof errors.JWKSNoMatchingKey ||
      error instanceof errors.JWKSMultipleMatchingKeys
    ) {
      return unauthenticated("the bearer token's signature does not verify with the issuer's keys");
    }
    return unauthenticated('the bearer token is not a valid JWT');
  }

  /** The issuer's key set, created once; a failed discovery is tried again on the next call. */
  private keys(): Promise<JWTVerifyGetKey> {
    this.keySet ??= this.jwksUrl().then((url) => {
      const remote = createRemoteJWKSet(url);
      return async (header, token) => {
        try {
          return await remote(header, token);
        } catch (error) {
          if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
            throw error;
          throw new KeySetUnavailable(`the OIDC key set ${url.href} cannot be fetched (${(error as Error).message})`);
        }
      };
    });
    this.keySet.catch(() => {
      this.keySet = undefined;
    });
    return this.keySet;
  }

  private async jwksUrl(): Promise<URL> {
    if (this.options.jwksUrl) return new URL(this.options.jwksUrl);
    const discovery = `${this.options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const response = await fetch(discovery, { signal: AbortSignal.timeout(5000), redirect: 'manual' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document = (await response.json()) as { jwks_uri?: unknown };
      if (typeof document.jwks_uri !== 'string') throw new Error('it has no jwks_uri');
      return new URL(document.jwks_uri);
    } catch (error) {
      throw new KeySetUnavailable(
        `the OIDC discovery document ${discovery} cannot be read (${(error as Error).message})`,
      );
    }
  }
}
