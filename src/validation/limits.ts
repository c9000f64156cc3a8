/**
 * Every bound the DCM puts on what a caller sends and on what it stores about an operation, in
 * one place: the schemas, the table in docs/api.md and the tests all read these numbers.
 *
 * The bounds are generous for real use and small enough that no body can make the DCM do much
 * work (every check is linear in the size of the body) or store a document MongoDB refuses.
 */
import { z } from 'zod';

export const LIMITS = {
  // Names and free text
  /** A DCM record's name (EMCO's rule). */
  nameLength: 128,
  /** `metadata.description` (EMCO's cap). */
  descriptionLength: 1024,
  /** `metadata.userData1` / `userData2`. */
  userDataLength: 512,
  /** A logical cloud's `spec.user.type` (only `certificate` is accepted). */
  userTypeLength: 64,

  // RBAC rules (user permissions, inline permissions, project policy ceilings)
  /** apiGroups of one rule. */
  apiGroups: 50,
  /** An API group: a DNS-1123 subdomain. */
  apiGroupLength: 253,
  /** resources of one rule. */
  resources: 100,
  /** A resource: `resource[/subresource]`, each part at most 63. */
  resourceLength: 127,
  /** verbs of one rule (there are 15 verbs, `*` included). */
  verbs: 16,
  /** Inline `spec.user.user-permissions` of one logical cloud. */
  inlinePermissions: 100,

  // Labels (of a logical cloud's Namespace, of a cluster)
  labels: 64,
  /** `[prefix/]name`: a 253-character DNS subdomain, `/`, a 63-character name. */
  labelKeyLength: 317,
  labelValueLength: 63,

  // Cluster quotas
  quotaKeys: 64,
  /** A quota key, as long as a label key (`<prefix>/<name>`). */
  quotaKeyLength: 317,
  /** A quantity such as `4Gi`: no real one comes near. */
  quotaValueLength: 64,

  // KV pairs
  kvEntries: 100,
  kvKeyLength: 256,
  kvValueLength: 4096,

  // Cluster registration
  /** The admin kubeconfig text (or its base64). */
  kubeconfigLength: 512 * 1024,
  /** The cluster CA's private key, PEM. */
  caKeyLength: 16 * 1024,
  /** A load balancer IP of a cluster reference (an IPv6 address is at most 45 characters). */
  ipLength: 45,

  // Project policies
  policyRules: 50,
  policyClusters: 500,
  policyProviders: 100,
  policyLabels: 20,
  policyLabelPrefixes: 20,
  /** `provider/cluster`. */
  policyClusterLength: 257,

  // What an operation's status keeps per cluster
  /** Warnings kept per cluster; the rest are counted in `warningsOmitted`. */
  statusWarnings: 20,
  /** Resource lines kept per cluster (failed ones first); the rest are counted in `resourcesOmitted`. */
  statusResources: 500,
  /** Characters kept of one warning or resource message. */
  statusMessageLength: 1024,
  /** Groups named in one warning's "it is served by group …". */
  warningServingGroups: 5,
} as const;

/** `at most 50 API groups`: the message of a list that is too long. */
export const atMost = (limit: number, what: string): string => `at most ${limit} ${what}`;

/** A string of at most `max` characters; longer: "<noun> is at most <max> characters" (and no further check). */
export const shortString = (max: number, noun: string, base: z.ZodString = z.string()) =>
  base.max(max, { error: `${noun} is ${atMost(max, 'characters')}`, abort: true });

/** A string of at most `max` characters; the length is checked first, so nothing longer reaches later checks. */
export const boundedString = (max: number, what = 'characters') =>
  z.string().max(max, { error: atMost(max, what), abort: true });

/**
 * A JSON object used as a map, of at most `max` entries whose keys have at most `keyLength`
 * characters. Count and key lengths are checked before any entry, so an object of 40,000 entries
 * costs one count and answers one issue, not 40,000 of them.
 */
export function boundedRecord<V extends z.ZodType>(value: V, max: number, what: string, keyLength: number) {
  const entries = z.record(z.string(), value);
  const documented = z.toJSONSchema(entries, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete documented.$schema;
  return z
    .record(z.string(), z.unknown())
    .superRefine((map, ctx) => {
      const keys = Object.keys(map);
      if (keys.length > max) {
        ctx.addIssue({ code: 'custom', message: atMost(max, what) });
        return;
      }
      for (const key of keys) {
        if (key.length > keyLength) {
          ctx.addIssue({
            code: 'custom',
            path: [`${key.slice(0, 40)}…`],
            message: `a key is ${atMost(keyLength, 'characters')}`,
          });
        }
      }
    })
    .pipe(entries)
    .meta({ ...documented, maxProperties: max });
}
