/** Tenant credentials, health, namespaces, drift, production safety, replicas (part of the settings' schema, src/config.ts). */
import { z } from 'zod';
import { flag } from './config-helpers.js';
import { DEFAULT_RESERVED_NAMESPACES, parseReservedNamespaces } from './domain/tenant-identity.js';

export const tenancySettings = {
  // ---- tenant credentials, health, namespaces --------------------------------------------
  DCM_USER_KEY_BITS: z
    .enum(['2048', '3072', '4096'])
    .default('2048')
    .transform((v) => Number(v) as 2048 | 3072 | 4096)
    .describe("Size of the RSA key of each tenant's client certificate."),
  DCM_CERT_VALIDITY_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600)
    .describe(
      "Requested lifetime of tenant certificates (a cluster's signer may cap it; the CSR API takes at " +
        'least 600 s, a cluster registered with its CA key signs exactly this). Each certificate is renewed by ' +
        'itself once two thirds of its actual lifetime have passed.',
    ),
  DCM_CLUSTER_HEALTH_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30000)
    .describe(
      'How often every registered cluster is probed (GET /version, /readyz). An apply to a cluster found ' +
        'unreachable within the last three intervals fails at once with the reason.',
    ),
  DCM_SELECTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(50000)
    .default(10000)
    .describe(
      'How often one replica checks every logical cloud with a spec.clusterSelector against the registry and the ' +
        'project policies (the replica holding the job also follows a cluster registered, relabelled or ' +
        'unregistered through it at once). At most 50 s, so that a logical cloud follows its fleet within a minute.',
    ),
  DCM_TENANT_TOKEN_SECONDS: z.coerce
    .number()
    .int()
    .min(600)
    .max(7 * 24 * 3600)
    .default(3600)
    .describe(
      "Lifetime of the bound token in a token user's kubeconfig (a new one at each download; " +
        'TokenRequest takes at least 600 s).',
    ),
  DCM_RESERVED_NAMESPACES: z
    .string()
    .default(DEFAULT_RESERVED_NAMESPACES.join(','))
    .transform((value, ctx) => {
      const parsed = parseReservedNamespaces(value);
      if (Array.isArray(parsed)) return parsed;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    })
    .describe(
      'Namespaces no logical cloud may take (409 naming the owner), so that a tenant cannot claim one ' +
        'before an operator installs there: comma-separated names and `prefix*` patterns (at most 256). It ' +
        'replaces the default list of common cluster add-ons; empty reserves no add-on. `default`, `kube-*` and ' +
        "the DCM's control planes (`istio-dcm-*`) are reserved always.",
    ),
  // ---- drift: objects the DCM applied, changed or deleted on a cluster ------------------
  DCM_DRIFT_ENABLED: z
    .enum(['true', 'false'], { message: 'DCM_DRIFT_ENABLED is true or false' })
    .default('true')
    .transform((v) => v === 'true')
    .describe(
      "Watch every cluster and restore what differs from what was applied (unless the logical cloud's " +
        'reconcile is paused); `false` turns drift handling off.',
    ),
  DCM_DRIFT_DEBOUNCE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60000)
    .default(500)
    .describe('A logical cloud is checked on a cluster this long after the last change seen there.'),
  DCM_DRIFT_WATCH_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60000)
    .default(30000)
    .describe(
      'A broken watch is started again with a backoff doubling up to this; ' + 'its cluster is then checked in full.',
    ),
  DCM_DRIFT_RESYNC_MS: z.coerce
    .number()
    .int()
    .min(10000)
    .default(3600000)
    .describe('Every cluster is checked in full this often, as a backstop to the watches.'),
  DCM_DRIFT_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe('Drift checks run at once (those an event asked for before those of a resync).'),
  // ---- overall quotas: one budget across a logical cloud's clusters ----------------------
  DCM_BUDGET_REBALANCE_MS: z.coerce
    .number()
    .int()
    .min(200)
    .max(600000)
    .default(5000)
    .describe(
      "A change of a cluster's quota usage is reflected in the split of an overall quota within this long " +
        '(clusters are read every half of it).',
    ),
  DCM_CERT_RENEWAL_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60000)
    .describe(
      'How often the DCM looks for tenant certificates due for renewal (one replica renews each ' +
        'logical cloud: the lease).',
    ),
  DCM_CSR_SIGN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60000)
    .describe("How long apply waits for a cluster's CSR API to issue a tenant certificate."),
  DCM_NAMESPACE_DELETE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(180000)
    .describe('How long terminate waits for a namespace (or control-plane namespace) to be gone.'),

  // ---- production safety --------------------------------------------------------------
  DCM_DEVELOPMENT_MODE: flag('false').describe(
    'Explicit development mode: secrets may be stored unencrypted when no key is given and the API may ' +
      'run without authentication. Never set in production.',
  ),
  DCM_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .describe(
      'Keys that encrypt secrets at rest (AES-256-GCM): `id:base64key[,id:base64key…]`, each key 32 ' +
        'bytes; the first one encrypts, all of them decrypt (so that keys can be rotated).',
    ),
  DCM_ENCRYPTION_KEYS_FILE: z
    .string()
    .optional()
    .describe('A file (a mounted Secret) holding the same as DCM_ENCRYPTION_KEYS; read at start-up.'),
  DCM_ALLOW_INSECURE_CLUSTERS: flag('false').describe(
    'Accept registered clusters reached without verifying TLS: a kubeconfig with ' +
      '`insecure-skip-tls-verify: true` or an http:// server. Never in production.',
  ),

  // ---- several replicas -----------------------------------------------------------------
  DCM_LEASE_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(30000)
    .describe("How long a replica's claim on a logical cloud's operation lasts unless renewed."),
  DCM_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 _ . : -')
    .optional()
    .describe("This replica's name in leases and logs (default: host name, pid and a random suffix)."),
};
