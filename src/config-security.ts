/** Authentication, metrics, the service-mesh CA and TLS (part of the settings' schema, src/config.ts). */
import { z } from 'zod';

export const securitySettings = {
  // ---- authentication and metrics (src/auth, src/observability) --------------------------
  DCM_AUTH_TOKENS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Static bearer tokens: a YAML or JSON file (a mounted Secret) listing ' +
        '`{ name, token | sha256, role: admin | project, projects?: [...], logicalClouds?: [project/lc] }`.',
    ),
  DCM_OIDC_ISSUER: z
    .url('must be a URL')
    .optional()
    .describe('OIDC: JWTs whose `iss` is this issuer are verified against its key set. Needs DCM_OIDC_AUDIENCE.'),
  DCM_OIDC_AUDIENCE: z.string().min(1).optional().describe('The `aud` a JWT must carry.'),
  DCM_OIDC_JWKS_URL: z
    .url('must be a URL')
    .optional()
    .describe("The issuer's JWKS; default: the `jwks_uri` of its /.well-known/openid-configuration."),
  DCM_OIDC_ROLES_CLAIM: z
    .string()
    .min(1)
    .default('dcm_roles')
    .describe("Claim (or dotted path, e.g. realm_access.roles) with the caller's roles; `admin` makes an admin."),
  DCM_OIDC_PROJECTS_CLAIM: z
    .string()
    .min(1)
    .default('dcm_projects')
    .describe('Claim with the projects the caller manages.'),
  DCM_OIDC_LOGICAL_CLOUDS_CLAIM: z
    .string()
    .min(1)
    .default('dcm_logical_clouds')
    .describe('Claim with `project/logicalCloud` entries whose status and kubeconfig the caller may read.'),
  DCM_OIDC_NAME_CLAIM: z.string().min(1).default('sub').describe('Claim naming the caller in audit lines and logs.'),
  DCM_OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300)
    .default(30)
    .describe("Clock skew allowed when checking a JWT's `exp`, `nbf` and `iat`."),
  DCM_METRICS_TOKEN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'When set, GET /metrics needs `Authorization: Bearer <the token in this file>`; otherwise /metrics ' + 'is open.',
    ),

  // ---- service-mesh CA (src/features/certificate-authority) -----------------------------------
  DCM_CA_CERT_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      "An operator-supplied CA that signs the per-cluster intermediates instead of the DCM's own root: " +
        'its certificate (PEM file). Goes with DCM_CA_KEY_FILE.',
    ),
  DCM_CA_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("The operator CA's private key (PEM file); both or neither with DCM_CA_CERT_FILE."),
  DCM_CA_CHAIN_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'The certificates above the operator CA up to the root (PEM file); needed unless it is a ' + 'self-signed root.',
    ),
  DCM_CA_ROOT_VALIDITY_SECONDS: z.coerce
    .number()
    .int()
    .min(86400)
    .default(10 * 365 * 24 * 3600)
    .describe('Lifetime of the root the DCM generates on its first start (when no operator CA is given).'),
  DCM_CA_INTERMEDIATE_VALIDITY_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .default(365 * 24 * 3600)
    .describe(
      "Lifetime of each cluster's intermediate (capped by the signer's own); renewed by apply in its " + 'last fifth.',
    ),
  DCM_MESH_ISTIO_VERSION: z
    .string()
    .regex(/^v?\d+\.\d+(\.\d+)?(-[0-9A-Za-z.-]+)?$/, 'an Istio version such as v1.28.4')
    .default('v1.28.4')
    .describe(
      "Istio version of the control planes (the Sail Operator's `Istio` spec.version); a cluster label " +
        'dcm.onap.org/istio-version overrides it.',
    ),
  DCM_MESH_READY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(120000)
    .describe(
      'How long apply waits for a declared control plane to be ready (0: not at all); past it the ' +
        'cluster is Failed with mesh-status Pending.',
    ),

  // ---- TLS on the APIs (src/security/tls.ts) --------------------------------------------------
  DCM_TLS_CERT_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'REST and gRPC serve TLS with this certificate (PEM, its chain after it); both or neither with ' +
        'DCM_TLS_KEY_FILE.',
    ),
  DCM_TLS_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("The TLS certificate's key (PEM, unencrypted); both or neither with DCM_TLS_CERT_FILE."),
  DCM_GRPC_CLIENT_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'gRPC mTLS: clients must present a certificate signed by a CA in this PEM file. Needs the TLS ' +
        'certificate and key.',
    ),
  DCM_TLS_RELOAD_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(60000)
    .describe(
      'The TLS files are read again this often (and on SIGHUP); a set that does not parse or match is ' +
        'reported and the previous one stays.',
    ),
};
