/** Configuration from environment variables, validated once at start-up. */
import { z } from 'zod';
import { DEFAULT_RESERVED_NAMESPACES, parseReservedNamespaces } from './domain/tenant-identity.js';
import { tlsConfigProblems } from './security/tls.js';

const port = z.coerce.number().int().min(0).max(65535);
const flag = (fallback: 'true' | 'false') =>
  z.enum(['true', 'false']).default(fallback).transform((v) => v === 'true');

/** Every setting, with its meaning: docs/configuration.md is rendered from it (`npm run docs:config`). */
export const ConfigSchema = z.object({
  // ---- the service -------------------------------------------------------------------
  DCM_HTTP_PORT: port.default(9077).describe('Port of the REST API (`/v2`), `/docs`, `/metrics` and the probes.'),
  DCM_GRPC_PORT: port.default(9078).describe('Port of the gRPC API (`dcm.v1`, health, reflection).'),
  DCM_HOST: z.string().min(1).default('0.0.0.0').describe('Address both APIs listen on.'),
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
    .optional()
    .describe('The MongoDB to use. When unset, `npm start` runs an embedded MongoDB-protocol server for development.'),
  DCM_DATABASE_WAIT_MS: z.coerce.number().int().min(0).default(60000)
    .describe('How long start-up keeps trying to reach MongoDB before giving up.'),
  DCM_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 of A-Z a-z 0-9 _ -').default('dcm')
    .describe('Name of the MongoDB database the DCM keeps its collections in.'),
  DCM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Lowest level logged (pino). Audit lines are written at info even at warn or error, not when silent.'),
  DCM_LOG_PRETTY: flag('false').describe('Human-readable log lines instead of JSON (for development).'),
  DCM_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/i, 'like 256kb or 1mb').default('1mb')
    .describe('Largest accepted request body (an admin kubeconfig is the largest legitimate one); beyond: 413.'),
  DCM_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10000)
    .describe('On SIGTERM, how long open requests and gRPC calls may finish before the process exits anyway.'),
  DCM_CLUSTER_TIMEOUT_MS: z.coerce.number().int().min(100).default(20000)
    .describe('Every call to a cluster gives up after this long.'),
  DCM_APPLY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8)
    .describe('Clusters of one apply (or terminate) worked at the same time.'),
  DCM_OPERATIONS_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16)
    .describe('Operations (apply, terminate of a logical cloud) worked at once per replica; more wait their turn ' +
      '(Instantiating or Terminating, their clusters Pending, their lease held).'),
  DCM_WATCH_STREAMS_PER_CALLER: z.coerce.number().int().min(1).max(10000).default(10)
    .describe('gRPC WatchStatus streams one caller may hold open at once (beyond: RESOURCE_EXHAUSTED); ' +
      'also the gRPC health Watch streams per peer address.'),
  // ---- gRPC connection limits, /metrics refresh, kubeconfig downloads (issue 29: 5, 6) -------
  DCM_GRPC_HEALTH_WATCHES_MAX: z.coerce.number().int().min(1).max(100000).default(1000)
    .describe('gRPC grpc.health.v1.Health/Watch streams open at once over all callers (beyond: RESOURCE_EXHAUSTED).'),
  DCM_GRPC_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10000).default(250)
    .describe('HTTP/2 streams (calls) one gRPC connection may have open at once (grpc.max_concurrent_streams).'),
  DCM_GRPC_KEEPALIVE_TIME_MS: z.coerce.number().int().min(10000).max(7200000).default(60000)
    .describe('The gRPC server pings a connection idle this long (grpc.keepalive_time_ms).'),
  DCM_GRPC_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600000).default(20000)
    .describe('A connection whose keepalive ping is not answered within this long is dropped, ' +
      'and its streams with it.'),
  DCM_GRPC_MAX_CONNECTION_IDLE_MS: z.coerce.number().int().min(1000).max(86400000).default(300000)
    .describe('A gRPC connection without a call for this long is closed (grpc.max_connection_idle_ms; ' +
      'clients reconnect by themselves).'),
  DCM_GRPC_MAX_CONNECTION_AGE_MS: z.coerce.number().int().min(10000).max(7 * 86400000).default(3600000)
    .describe('A gRPC connection is asked to go away after this long (grpc.max_connection_age_ms).'),
  DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS: z.coerce.number().int().min(1000).max(3600000).default(300000)
    .describe('Calls of a connection asked to go away get this long more, then are cut (a watch is watched again).'),
  DCM_METRICS_REFRESH_MS: z.coerce.number().int().min(1000).max(3600000).default(15000)
    .describe('/metrics gauges read from the database (logical clouds per state, nearest certificate expiry) are ' +
      'read again at most this often, never per scrape.'),
  DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: z.coerce.number().int().min(1).max(1000).default(10)
    .describe("Kubeconfig downloads of a token user's logical cloud (each mints a token on every cluster) one " +
      'caller may make per minute (beyond: 429 / RESOURCE_EXHAUSTED).'),
  // ---- tenant credentials, health, namespaces --------------------------------------------
  DCM_USER_KEY_BITS: z.enum(['2048', '3072', '4096']).default('2048')
    .transform((v) => Number(v) as 2048 | 3072 | 4096)
    .describe("Size of the RSA key of each tenant's client certificate."),
  DCM_CERT_VALIDITY_SECONDS: z.coerce.number().int().min(60).default(30 * 24 * 3600)
    .describe("Requested lifetime of tenant certificates (a cluster's signer may cap it; the CSR API takes at " +
      'least 600 s, a cluster registered with its CA key signs exactly this). Each certificate is renewed by ' +
      'itself once two thirds of its actual lifetime have passed.'),
  DCM_CLUSTER_HEALTH_INTERVAL_MS: z.coerce.number().int().min(1000).default(30000)
    .describe('How often every registered cluster is probed (GET /version, /readyz). An apply to a cluster found ' +
      'unreachable within the last three intervals fails at once with the reason.'),
  DCM_TENANT_TOKEN_SECONDS: z.coerce.number().int().min(600).max(7 * 24 * 3600).default(3600)
    .describe("Lifetime of the bound token in a token user's kubeconfig (a new one at each download; " +
      'TokenRequest takes at least 600 s).'),
  DCM_RESERVED_NAMESPACES: z
    .string()
    .default(DEFAULT_RESERVED_NAMESPACES.join(','))
    .transform((value, ctx) => {
      const parsed = parseReservedNamespaces(value);
      if (Array.isArray(parsed)) return parsed;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    })
    .describe('Namespaces no logical cloud may take (409 naming the owner), so that a tenant cannot claim one ' +
      'before an operator installs there: comma-separated names and `prefix*` patterns (at most 256). It ' +
      'replaces the default list of common cluster add-ons; empty reserves no add-on. `default`, `kube-*` and ' +
      "the DCM's control planes (`istio-dcm-*`) are reserved always."),
  // ---- drift: objects the DCM applied, changed or deleted on a cluster ------------------
  DCM_DRIFT_ENABLED: z
    .enum(['true', 'false'], { message: 'DCM_DRIFT_ENABLED is true or false' })
    .default('true')
    .transform((v) => v === 'true')
    .describe("Watch every cluster and restore what differs from what was applied (unless the logical cloud's " +
      'reconcile is paused); `false` turns drift handling off.'),
  DCM_DRIFT_DEBOUNCE_MS: z.coerce.number().int().min(0).max(60000).default(500)
    .describe('A logical cloud is checked on a cluster this long after the last change seen there.'),
  DCM_DRIFT_WATCH_RETRY_MAX_MS: z.coerce.number().int().min(100).max(60000).default(30000)
    .describe('A broken watch is started again with a backoff doubling up to this; ' +
      'its cluster is then checked in full.'),
  DCM_DRIFT_RESYNC_MS: z.coerce.number().int().min(10000).default(3600000)
    .describe('Every cluster is checked in full this often, as a backstop to the watches.'),
  DCM_DRIFT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4)
    .describe('Drift checks run at once (those an event asked for before those of a resync).'),
  DCM_CERT_RENEWAL_INTERVAL_MS: z.coerce.number().int().min(1000).default(60000)
    .describe('How often the DCM looks for tenant certificates due for renewal (one replica renews each ' +
      'logical cloud: the lease).'),
  DCM_CSR_SIGN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60000)
    .describe("How long apply waits for a cluster's CSR API to issue a tenant certificate."),
  DCM_NAMESPACE_DELETE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(180000)
    .describe('How long terminate waits for a namespace (or control-plane namespace) to be gone.'),

  // ---- production safety --------------------------------------------------------------
  DCM_DEVELOPMENT_MODE: flag('false')
    .describe('Explicit development mode: secrets may be stored unencrypted when no key is given and the API may ' +
      'run without authentication. Never set in production.'),
  DCM_ENCRYPTION_KEYS: z.string().optional()
    .describe('Keys that encrypt secrets at rest (AES-256-GCM): `id:base64key[,id:base64key…]`, each key 32 ' +
      'bytes; the first one encrypts, all of them decrypt (so that keys can be rotated).'),
  DCM_ENCRYPTION_KEYS_FILE: z.string().optional()
    .describe('A file (a mounted Secret) holding the same as DCM_ENCRYPTION_KEYS; read at start-up.'),
  DCM_ALLOW_INSECURE_CLUSTERS: flag('false')
    .describe('Accept registered clusters reached without verifying TLS: a kubeconfig with ' +
      '`insecure-skip-tls-verify: true` or an http:// server. Never in production.'),

  // ---- several replicas -----------------------------------------------------------------
  DCM_LEASE_TTL_MS: z.coerce.number().int().min(1000).default(30000)
    .describe("How long a replica's claim on a logical cloud's operation lasts unless renewed."),
  DCM_REPLICA_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ . : -').optional()
    .describe("This replica's name in leases and logs (default: host name, pid and a random suffix)."),

  // ---- authentication and metrics (src/auth, src/observability) --------------------------
  DCM_AUTH_TOKENS_FILE: z.string().min(1).optional()
    .describe('Static bearer tokens: a YAML or JSON file (a mounted Secret) listing ' +
      '`{ name, token | sha256, role: admin | project, projects?: [...], logicalClouds?: [project/lc] }`.'),
  DCM_OIDC_ISSUER: z.url('must be a URL').optional()
    .describe('OIDC: JWTs whose `iss` is this issuer are verified against its key set. Needs DCM_OIDC_AUDIENCE.'),
  DCM_OIDC_AUDIENCE: z.string().min(1).optional().describe('The `aud` a JWT must carry.'),
  DCM_OIDC_JWKS_URL: z.url('must be a URL').optional()
    .describe("The issuer's JWKS; default: the `jwks_uri` of its /.well-known/openid-configuration."),
  DCM_OIDC_ROLES_CLAIM: z.string().min(1).default('dcm_roles')
    .describe("Claim (or dotted path, e.g. realm_access.roles) with the caller's roles; `admin` makes an admin."),
  DCM_OIDC_PROJECTS_CLAIM: z.string().min(1).default('dcm_projects')
    .describe('Claim with the projects the caller manages.'),
  DCM_OIDC_LOGICAL_CLOUDS_CLAIM: z.string().min(1).default('dcm_logical_clouds')
    .describe('Claim with `project/logicalCloud` entries whose status and kubeconfig the caller may read.'),
  DCM_OIDC_NAME_CLAIM: z.string().min(1).default('sub').describe('Claim naming the caller in audit lines and logs.'),
  DCM_OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30)
    .describe("Clock skew allowed when checking a JWT's `exp`, `nbf` and `iat`."),
  DCM_METRICS_TOKEN_FILE: z.string().min(1).optional()
    .describe('When set, GET /metrics needs `Authorization: Bearer <the token in this file>`; otherwise /metrics ' +
      'is open.'),

  // ---- service-mesh CA (src/features/certificate-authority) -----------------------------------
  DCM_CA_CERT_FILE: z.string().min(1).optional()
    .describe("An operator-supplied CA that signs the per-cluster intermediates instead of the DCM's own root: " +
      'its certificate (PEM file). Goes with DCM_CA_KEY_FILE.'),
  DCM_CA_KEY_FILE: z.string().min(1).optional()
    .describe("The operator CA's private key (PEM file); both or neither with DCM_CA_CERT_FILE."),
  DCM_CA_CHAIN_FILE: z.string().min(1).optional()
    .describe("The certificates above the operator CA up to the root (PEM file); needed unless it is a " +
      'self-signed root.'),
  DCM_CA_ROOT_VALIDITY_SECONDS: z.coerce.number().int().min(86400).default(10 * 365 * 24 * 3600)
    .describe('Lifetime of the root the DCM generates on its first start (when no operator CA is given).'),
  DCM_CA_INTERMEDIATE_VALIDITY_SECONDS: z.coerce.number().int().min(3600).default(365 * 24 * 3600)
    .describe("Lifetime of each cluster's intermediate (capped by the signer's own); renewed by apply in its " +
      'last fifth.'),
  DCM_MESH_ISTIO_VERSION: z
    .string()
    .regex(/^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?$/, 'an Istio version such as v1.28.4')
    .default('v1.28.4')
    .describe("Istio version of the control planes (the Sail Operator's `Istio` spec.version); a cluster label " +
      'dcm.onap.org/istio-version overrides it.'),
  DCM_MESH_READY_TIMEOUT_MS: z.coerce.number().int().min(0).default(120000)
    .describe('How long apply waits for a declared control plane to be ready (0: not at all); past it the ' +
      'cluster is Failed with mesh-status Pending.'),

  // ---- TLS on the APIs (src/security/tls.ts) --------------------------------------------------
  DCM_TLS_CERT_FILE: z.string().min(1).optional()
    .describe('REST and gRPC serve TLS with this certificate (PEM, its chain after it); both or neither with ' +
      'DCM_TLS_KEY_FILE.'),
  DCM_TLS_KEY_FILE: z.string().min(1).optional()
    .describe("The TLS certificate's key (PEM, unencrypted); both or neither with DCM_TLS_CERT_FILE."),
  DCM_GRPC_CLIENT_CA_FILE: z.string().min(1).optional()
    .describe('gRPC mTLS: clients must present a certificate signed by a CA in this PEM file. Needs the TLS ' +
      'certificate and key.'),
  DCM_TLS_RELOAD_INTERVAL_MS: z.coerce.number().int().min(100).default(60000)
    .describe('The TLS files are read again this often (and on SIGHUP); a set that does not parse or match is ' +
      'reported and the previous one stays.'),
});

/** Cross-field rules; the TLS files must exist, parse and match. */
const ValidatedConfigSchema = ConfigSchema.superRefine((c, ctx) => {
  const cert = c.DCM_TLS_CERT_FILE;
  const key = c.DCM_TLS_KEY_FILE;
  if ((cert === undefined) !== (key === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [cert === undefined ? 'DCM_TLS_CERT_FILE' : 'DCM_TLS_KEY_FILE'],
      message: 'DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE go together: set both (TLS) or neither (plaintext)',
    });
    return;
  }
  if (c.DCM_GRPC_CLIENT_CA_FILE !== undefined && cert === undefined) {
    ctx.addIssue({ code: 'custom', path: ['DCM_GRPC_CLIENT_CA_FILE'], message: 'needs DCM_TLS_CERT_FILE and DCM_TLS_KEY_FILE (client certificates are asked for over TLS only)' });
    return;
  }
  if (cert !== undefined && key !== undefined) {
    for (const problem of tlsConfigProblems({ certFile: cert, keyFile: key, clientCaFile: c.DCM_GRPC_CLIENT_CA_FILE })) {
      // "VARIABLE file…": the variable is the issue's path
      const variable = problem.split(' ')[0]!;
      ctx.addIssue({ code: 'custom', path: [variable], message: problem.slice(variable.length + 1) });
    }
  }
});

export type Config = z.infer<typeof ValidatedConfigSchema>;

export class ConfigError extends Error {}

/** The defaults, as a development or test run without environment gets them. */
export const defaultConfig = (): Config => ConfigSchema.parse({});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ValidatedConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
