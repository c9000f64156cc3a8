/** Configuration from environment variables, validated once at start-up. */
import { z } from 'zod';
import { DEFAULT_RESERVED_NAMESPACES, parseReservedNamespaces } from './domain/tenant-identity.js';
import { tlsConfigProblems } from './security/tls.js';

const port = z.coerce.number().int().min(0).max(65535);

const ConfigSchema = z.object({
  DCM_HTTP_PORT: port.default(9077),
  DCM_GRPC_PORT: port.default(9078),
  DCM_HOST: z.string().min(1).default('0.0.0.0'),
  /** When unset, `npm start` runs an embedded MongoDB-protocol server (see embedded-database.ts). */
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL').optional(),
  /** How long start-up keeps trying to reach MongoDB before giving up. */
  DCM_DATABASE_WAIT_MS: z.coerce.number().int().min(0).default(60000),
  DCM_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 of A-Z a-z 0-9 _ -').default('dcm'),
  DCM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DCM_LOG_PRETTY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Largest accepted request body (an admin kubeconfig is the largest legitimate one). */
  DCM_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/i, 'like 256kb or 1mb').default('1mb'),
  DCM_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10000),
  /** Every call to a cluster gives up after this long. */
  DCM_CLUSTER_TIMEOUT_MS: z.coerce.number().int().min(100).default(20000),
  /** Clusters of one apply worked at the same time. */
  DCM_APPLY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** Operations (apply, terminate of a logical cloud) worked at once per replica; more wait their turn (Instantiating or Terminating, their clusters Pending). */
  DCM_OPERATIONS_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  /** gRPC WatchStatus streams one caller may hold open at once (beyond: RESOURCE_EXHAUSTED). */
  DCM_WATCH_STREAMS_PER_CALLER: z.coerce.number().int().min(1).max(10000).default(10),
  // ---- gRPC connection limits, /metrics refresh, kubeconfig downloads (issue 29: 5, 6) -------
  /** gRPC grpc.health.v1.Health/Watch streams open at once over all callers (beyond: RESOURCE_EXHAUSTED); per peer address DCM_WATCH_STREAMS_PER_CALLER. */
  DCM_GRPC_HEALTH_WATCHES_MAX: z.coerce.number().int().min(1).max(100000).default(1000),
  /** HTTP/2 streams (calls) one gRPC connection may have open at once (grpc.max_concurrent_streams). */
  DCM_GRPC_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10000).default(250),
  /** The gRPC server pings a connection idle this long (grpc.keepalive_time_ms), and drops it when no answer comes within DCM_GRPC_KEEPALIVE_TIMEOUT_MS. */
  DCM_GRPC_KEEPALIVE_TIME_MS: z.coerce.number().int().min(10000).max(7200000).default(60000),
  DCM_GRPC_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600000).default(20000),
  /** A gRPC connection without a call for this long is closed (grpc.max_connection_idle_ms; clients reconnect by themselves). */
  DCM_GRPC_MAX_CONNECTION_IDLE_MS: z.coerce.number().int().min(1000).max(86400000).default(300000),
  /** A gRPC connection is asked to go away after this long (grpc.max_connection_age_ms); its calls get DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS more, then are cut (a watch is watched again). */
  DCM_GRPC_MAX_CONNECTION_AGE_MS: z.coerce.number().int().min(10000).max(7 * 86400000).default(3600000),
  DCM_GRPC_MAX_CONNECTION_AGE_GRACE_MS: z.coerce.number().int().min(1000).max(3600000).default(300000),
  /** /metrics gauges read from the database (logical clouds per state, nearest certificate expiry) are read again at most this often, never per scrape. */
  DCM_METRICS_REFRESH_MS: z.coerce.number().int().min(1000).max(3600000).default(15000),
  /** Kubeconfig downloads of a token user's logical cloud (each mints a token on every cluster) one caller may make per minute (beyond: 429 / RESOURCE_EXHAUSTED). */
  DCM_KUBECONFIG_DOWNLOADS_PER_MINUTE: z.coerce.number().int().min(1).max(1000).default(10),
  DCM_USER_KEY_BITS: z.enum(['2048', '3072', '4096']).default('2048').transform((v) => Number(v) as 2048 | 3072 | 4096),
  /**
   * Requested lifetime of tenant certificates (a cluster's signer may cap it; the CSR API takes
   * at least 600 s, a cluster registered with its CA key signs exactly this). Each certificate is
   * renewed by itself once two thirds of its actual lifetime have passed.
   */
  DCM_CERT_VALIDITY_SECONDS: z.coerce.number().int().min(60).default(30 * 24 * 3600),
  /**
   * How often every registered cluster is probed (GET /version, /readyz). An apply to a cluster
   * found unreachable within the last three intervals fails at once with the reason.
   */
  DCM_CLUSTER_HEALTH_INTERVAL_MS: z.coerce.number().int().min(1000).default(30000),
  /** Lifetime of the bound token in a token user's kubeconfig (a new one at each download; TokenRequest takes at least 600 s). */
  DCM_TENANT_TOKEN_SECONDS: z.coerce.number().int().min(600).max(7 * 24 * 3600).default(3600),
  /**
   * Namespaces no logical cloud may take (409 naming the owner), so that a tenant cannot claim one before an
   * operator installs there: comma-separated names and `prefix*` patterns (e.g. `istio-*`); it replaces the
   * default list (common cluster add-ons: DEFAULT_RESERVED_NAMESPACES in src/domain/tenant-identity.ts), and
   * empty reserves no add-on. `default`, `kube-*` and the DCM's control planes (`istio-dcm-*`) are reserved always.
   */
  DCM_RESERVED_NAMESPACES: z
    .string()
    .default(DEFAULT_RESERVED_NAMESPACES.join(','))
    .transform((value, ctx) => {
      const parsed = parseReservedNamespaces(value);
      if (Array.isArray(parsed)) return parsed;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
  /**
   * Drift (objects the DCM applied, changed or deleted on a cluster): watched on every cluster,
   * checked DCM_DRIFT_DEBOUNCE_MS after the last change, restored unless the logical cloud's
   * reconcile is paused. A broken watch is started again within DCM_DRIFT_WATCH_RETRY_MAX_MS
   * and its cluster checked in full; every DCM_DRIFT_RESYNC_MS every cluster is checked in full.
   * DCM_DRIFT_ENABLED=false turns it off.
   */
  DCM_DRIFT_ENABLED: z
    .enum(['true', 'false'], { message: 'DCM_DRIFT_ENABLED is true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  DCM_DRIFT_DEBOUNCE_MS: z.coerce.number().int().min(0).max(60000).default(500),
  DCM_DRIFT_WATCH_RETRY_MAX_MS: z.coerce.number().int().min(100).max(60000).default(30000),
  DCM_DRIFT_RESYNC_MS: z.coerce.number().int().min(10000).default(3600000),
  DCM_DRIFT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** How often the DCM looks for tenant certificates due for renewal (one replica renews each logical cloud: the lease). */
  DCM_CERT_RENEWAL_INTERVAL_MS: z.coerce.number().int().min(1000).default(60000),
  DCM_CSR_SIGN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60000),
  DCM_NAMESPACE_DELETE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(180000),

  // ---- production safety --------------------------------------------------------------
  /**
   * Explicit development mode: secrets may be stored unencrypted when no key is given and
   * the API may run without authentication. Never set in production.
   */
  DCM_DEVELOPMENT_MODE: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /**
   * Keys that encrypt secrets at rest (AES-256-GCM): `id:base64key[,id:base64key…]`, each key
   * 32 bytes; the first one encrypts, all of them decrypt (so that keys can be rotated).
   */
  DCM_ENCRYPTION_KEYS: z.string().optional(),
  /** A file (a mounted Secret) holding the same as DCM_ENCRYPTION_KEYS; read at start-up. */
  DCM_ENCRYPTION_KEYS_FILE: z.string().optional(),
  /**
   * Accept registered clusters reached without verifying TLS: a kubeconfig with
   * `insecure-skip-tls-verify: true` or an http:// server. Off by default; never in production.
   */
  DCM_ALLOW_INSECURE_CLUSTERS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),

  // ---- several replicas -----------------------------------------------------------------
  /** How long a replica's claim on a logical cloud's operation lasts unless renewed. */
  DCM_LEASE_TTL_MS: z.coerce.number().int().min(1000).default(30000),
  /** This replica's name in leases (default: host name, pid and a random suffix). */
  DCM_REPLICA_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ . : -').optional(),

  // ---- authentication and metrics (src/auth, src/observability) --------------------------
  /**
   * Static bearer tokens: a YAML or JSON file (a mounted Secret) listing
   * `{ name, token | sha256, role: admin | project, projects?: [...], logicalClouds?: ['project/lc'] }`.
   */
  DCM_AUTH_TOKENS_FILE: z.string().min(1).optional(),
  /** OIDC: JWTs whose `iss` is this issuer are verified against its key set. Needs DCM_OIDC_AUDIENCE. */
  DCM_OIDC_ISSUER: z.url('must be a URL').optional(),
  /** The `aud` a JWT must carry. */
  DCM_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The issuer's JWKS; default: the `jwks_uri` of its /.well-known/openid-configuration. */
  DCM_OIDC_JWKS_URL: z.url('must be a URL').optional(),
  /** Claim (or dotted path, e.g. realm_access.roles) with the caller's roles; `admin` makes an admin. */
  DCM_OIDC_ROLES_CLAIM: z.string().min(1).default('dcm_roles'),
  /** Claim with the projects the caller manages. */
  DCM_OIDC_PROJECTS_CLAIM: z.string().min(1).default('dcm_projects'),
  /** Claim with `project/logicalCloud` entries whose status and kubeconfig the caller may read. */
  DCM_OIDC_LOGICAL_CLOUDS_CLAIM: z.string().min(1).default('dcm_logical_clouds'),
  /** Claim naming the caller in audit lines and logs. */
  DCM_OIDC_NAME_CLAIM: z.string().min(1).default('sub'),
  DCM_OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** When set, GET /metrics needs `Authorization: Bearer <the token in this file>`; otherwise /metrics is open. */
  DCM_METRICS_TOKEN_FILE: z.string().min(1).optional(),

  // ---- service-mesh CA (src/features/certificate-authority) -----------------------------------
  /**
   * An operator-supplied CA that signs the per-cluster intermediates instead of the DCM's own
   * root: its certificate and key as PEM files (both or neither), and — unless the certificate
   * is a self-signed root — DCM_CA_CHAIN_FILE with the certificates above it up to the root.
   */
  DCM_CA_CERT_FILE: z.string().min(1).optional(),
  DCM_CA_KEY_FILE: z.string().min(1).optional(),
  DCM_CA_CHAIN_FILE: z.string().min(1).optional(),
  /** Lifetime of the root the DCM generates on its first start (when no operator CA is given). */
  DCM_CA_ROOT_VALIDITY_SECONDS: z.coerce.number().int().min(86400).default(10 * 365 * 24 * 3600),
  /** Lifetime of each cluster's intermediate (capped by the signer's own); renewed by apply in its last fifth. */
  DCM_CA_INTERMEDIATE_VALIDITY_SECONDS: z.coerce.number().int().min(3600).default(365 * 24 * 3600),
  /** Istio version of the control planes (the Sail Operator's `Istio` spec.version); a cluster label dcm.onap.org/istio-version overrides it. */
  DCM_MESH_ISTIO_VERSION: z.string().regex(/^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?$/, 'an Istio version such as v1.28.4').default('v1.28.4'),
  /** How long apply waits for a declared control plane to be ready (0: not at all); past it the cluster is Failed with mesh-status Pending. */
  DCM_MESH_READY_TIMEOUT_MS: z.coerce.number().int().min(0).default(120000),

  // ---- TLS on the APIs (src/security/tls.ts) --------------------------------------------------
  /**
   * REST and gRPC serve TLS with this certificate (PEM, its chain after it) and key (PEM,
   * unencrypted): both or neither. Read again every DCM_TLS_RELOAD_INTERVAL_MS and on SIGHUP.
   */
  DCM_TLS_CERT_FILE: z.string().min(1).optional(),
  DCM_TLS_KEY_FILE: z.string().min(1).optional(),
  /** gRPC mTLS: clients must present a certificate signed by a CA in this PEM file. Needs the two above. */
  DCM_GRPC_CLIENT_CA_FILE: z.string().min(1).optional(),
  DCM_TLS_RELOAD_INTERVAL_MS: z.coerce.number().int().min(100).default(60000),
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
