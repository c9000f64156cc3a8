/**
 * Authentication from configuration, decided once at start-up: outside development mode the
 * DCM refuses to run without a token file or an OIDC issuer.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import type { AuthSetup } from './gate.js';
import { OidcAuthenticator } from './oidc.js';
import { AuthConfigError, loadTokenFile } from './static-tokens.js';

export { AuthConfigError };

type AuthConfig = Pick<
  Config,
  | 'DCM_DEVELOPMENT_MODE'
  | 'DCM_AUTH_TOKENS_FILE'
  | 'DCM_OIDC_ISSUER'
  | 'DCM_OIDC_AUDIENCE'
  | 'DCM_OIDC_JWKS_URL'
  | 'DCM_OIDC_ROLES_CLAIM'
  | 'DCM_OIDC_PROJECTS_CLAIM'
  | 'DCM_OIDC_LOGICAL_CLOUDS_CLAIM'
  | 'DCM_OIDC_NAME_CLAIM'
  | 'DCM_OIDC_CLOCK_TOLERANCE_SECONDS'
>;

/**
 * The authentication of this process. Development mode without a token file or issuer runs
 * without authentication; configured sources are enforced also in development mode (to try them).
 */
export function loadAuth(config: AuthConfig): AuthSetup {
  if (!config.DCM_OIDC_ISSUER && (config.DCM_OIDC_AUDIENCE || config.DCM_OIDC_JWKS_URL)) {
    throw new AuthConfigError(
      'DCM_OIDC_AUDIENCE / DCM_OIDC_JWKS_URL are set but DCM_OIDC_ISSUER is not: set the issuer too',
    );
  }
  if (config.DCM_OIDC_ISSUER && !config.DCM_OIDC_AUDIENCE) {
    throw new AuthConfigError(
      "DCM_OIDC_ISSUER is set but DCM_OIDC_AUDIENCE is not: set the audience (the `aud` the DCM's tokens carry)",
    );
  }
  const tokens = config.DCM_AUTH_TOKENS_FILE ? loadTokenFile(config.DCM_AUTH_TOKENS_FILE) : undefined;
  const oidc = config.DCM_OIDC_ISSUER
    ? new OidcAuthenticator({
        issuer: config.DCM_OIDC_ISSUER,
        audience: config.DCM_OIDC_AUDIENCE!,
        jwksUrl: config.DCM_OIDC_JWKS_URL,
        rolesClaim: config.DCM_OIDC_ROLES_CLAIM,
        projectsClaim: config.DCM_OIDC_PROJECTS_CLAIM,
        logicalCloudsClaim: config.DCM_OIDC_LOGICAL_CLOUDS_CLAIM,
        nameClaim: config.DCM_OIDC_NAME_CLAIM,
        clockToleranceSeconds: config.DCM_OIDC_CLOCK_TOLERANCE_SECONDS,
      })
    : undefined;
  if (tokens || oidc) return { mode: 'enforced', tokens, oidc };
  if (config.DCM_DEVELOPMENT_MODE) return { mode: 'development' };
  throw new AuthConfigError(
    'no authentication is configured: set DCM_AUTH_TOKENS_FILE (static bearer tokens) and/or DCM_OIDC_ISSUER with DCM_OIDC_AUDIENCE (OIDC JWTs); ' +
      'only DCM_DEVELOPMENT_MODE=true runs the API without authentication',
  );
}

/** The bearer token /metrics asks for (DCM_METRICS_TOKEN_FILE), or undefined: /metrics is open. */
export function loadMetricsToken(config: Pick<Config, 'DCM_METRICS_TOKEN_FILE'>): string | undefined {
  const file = config.DCM_METRICS_TOKEN_FILE;
  if (!file) return undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new AuthConfigError(
      `DCM_METRICS_TOKEN_FILE ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (token.length < 16 || /\s/.test(token))
    throw new AuthConfigError(
      `DCM_METRICS_TOKEN_FILE ${file}: the token must be at least 16 characters without white space`,
    );
  return token;
}
