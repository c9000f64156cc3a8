/**
 * The body of PUT /v2/projects/{project}/policy (admins only). Every field may be left out:
 * it then takes the default of a new project (see defaultProjectPolicy).
 */
import { z } from 'zod';
import { NETWORK_MODES, POD_SECURITY_LEVELS } from '../../domain/logical-cloud.js';
import { DEFAULT_CLUSTER_WIDE_CEILING, defaultProjectPolicy, type ProjectPolicy } from '../../auth/tenant-policy.js';
import { labelMap } from '../../validation/labels.js';
import { mapToPairs, pairsToMap } from '../../db/named-record-store.js';
import { quotaSpec } from '../../validation/quota-spec.js';
import { resourceName } from '../../validation/record-metadata.js';
import { allowedLabelPrefix } from '../../validation/reserved-labels.js';
import { boundedString, LIMITS } from '../../validation/limits.js';
import { RuleFields } from '../user-permissions/user-permission.schema.js';
import type { ProjectPolicyView } from './project-policy.service.js';

/** Bounds of a policy (from LIMITS): enough for any real platform, small enough that every check stays cheap. */
export const POLICY_LIMITS = {
  rules: LIMITS.policyRules,
  clusters: LIMITS.policyClusters,
  providers: LIMITS.policyProviders,
  labels: LIMITS.policyLabels,
  labelPrefixes: LIMITS.policyLabelPrefixes,
} as const;

const PolicyRuleSchema = z.strictObject(RuleFields);
const ceiling = z.array(PolicyRuleSchema).max(POLICY_LIMITS.rules, `at most ${POLICY_LIMITS.rules} rules`);

/** A DCM name (resourceName) inside a pattern. */
const NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,126}[A-Za-z0-9])?';

/** `provider/cluster`, each part a DCM name. */
const clusterKey = boundedString(LIMITS.policyClusterLength)
  .refine(
    (s) => {
      const parts = s.split('/');
      return parts.length === 2 && parts.every((p) => resourceName.safeParse(p).success);
    },
    { message: 'a cluster is named "<cluster-provider>/<cluster-name>"' },
  )
  .meta({ pattern: `^${NAME}/${NAME}$`, maxLength: LIMITS.policyClusterLength });

const ClustersSchema = z.strictObject({
  providers: z
    .array(resourceName)
    .max(POLICY_LIMITS.providers, `at most ${POLICY_LIMITS.providers} providers`)
    .optional(),
  clusters: z.array(clusterKey).max(POLICY_LIMITS.clusters, `at most ${POLICY_LIMITS.clusters} clusters`).optional(),
  labels: labelMap
    .refine((l) => Object.keys(l).length <= POLICY_LIMITS.labels, { message: `at most ${POLICY_LIMITS.labels} labels` })
    .meta({ maxProperties: POLICY_LIMITS.labels })
    .optional(),
});

export const ProjectPolicySchema = z.strictObject({
  clusters: ClustersSchema.optional(),
  allowAdminLevel: z.boolean({ error: 'allowAdminLevel is true or false' }).optional(),
  namespacedCeiling: ceiling.optional(),
  clusterWide: z
    .strictObject({
      allowed: z.boolean({ error: 'allowed is true or false' }),
      ceiling: ceiling.optional(),
    })
    .optional(),
  allowedLabelPrefixes: z
    .array(allowedLabelPrefix)
    .max(POLICY_LIMITS.labelPrefixes, `at most ${POLICY_LIMITS.labelPrefixes} label prefixes`)
    .optional(),
  // The least strict Pod Security level a project caller may give a logical cloud (default baseline).
  podSecurity: z
    .strictObject({
      minimum: z.enum(POD_SECURITY_LEVELS, { message: 'minimum is "restricted", "baseline" or "privileged"' }),
    })
    .optional(),
  // The network isolation modes a project caller may choose (default all three).
  network: z
    .strictObject({
      allowed: z
        .array(z.enum(NETWORK_MODES, { message: 'a mode is "AllowSameNamespace", "DenyAll" or "AllowAll"' }))
        .min(1, 'at least one mode')
        .max(NETWORK_MODES.length, `at most ${NETWORK_MODES.length} modes`),
    })
    .optional(),
  mesh: z
    .strictObject({
      allowUnconstrainedIntermediates: z.boolean({ error: 'allowUnconstrainedIntermediates is true or false' }),
    })
    .optional(),
  // Capsule's forceTenantPrefix: the namespaces of the project's logical clouds start with it ("" : any).
  namespacePrefix: z
    .string()
    .max(40, 'at most 40 characters')
    .regex(
      /^([a-z0-9]([-a-z0-9]*)?)?$/,
      'a namespace prefix is lower-case letters, digits and "-", starting with a letter or digit (e.g. "team-a-")',
    )
    .optional(),
  // The most an overall quota may set per key when a project caller writes it (admins are not bound).
  maxOverall: quotaSpec.optional(),
});

export type ProjectPolicyBody = z.infer<typeof ProjectPolicySchema>;

/** The complete policy a body stands for: what it leaves out is the default. */
export function policyFromBody(body: ProjectPolicyBody): ProjectPolicy {
  const defaults = defaultProjectPolicy();
  const clusterWideAllowed = body.clusterWide?.allowed ?? false;
  return {
    clusters: {
      providers: body.clusters?.providers ?? [],
      clusters: body.clusters?.clusters ?? [],
      labels: body.clusters?.labels ?? {},
    },
    allowAdminLevel: body.allowAdminLevel ?? false,
    namespacedCeiling: body.namespacedCeiling ?? defaults.namespacedCeiling,
    clusterWide: {
      allowed: clusterWideAllowed,
      ceiling: clusterWideAllowed ? (body.clusterWide?.ceiling ?? DEFAULT_CLUSTER_WIDE_CEILING) : [],
    },
    allowedLabelPrefixes: [...new Set(body.allowedLabelPrefixes ?? [])],
    podSecurity: body.podSecurity ?? defaults.podSecurity,
    network: body.network ? { allowed: [...new Set(body.network.allowed)] } : defaults.network,
    mesh: body.mesh ?? defaults.mesh,
    namespacePrefix: body.namespacePrefix ?? defaults.namespacePrefix,
    ...(body.maxOverall ? { maxOverall: mapToPairs(body.maxOverall) } : {}),
  };
}

/** `{spec}` as GET answers it; GET's read-only `metadata` may be sent back and is ignored. */
export const ProjectPolicyBody = z.strictObject({ metadata: z.unknown().optional(), spec: ProjectPolicySchema });

const RuleBody = z.strictObject({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
});

/** The policy's body as GET and PUT answer it (projectPolicyView): the complete policy in force. */
export const ProjectPolicyViewSchema = z.strictObject({
  metadata: z.strictObject({
    project: z.string(),
    custom: z.boolean(),
    updatedAt: z.iso.datetime().optional(),
    updatedBy: z.string().optional(),
  }),
  spec: z.strictObject({
    clusters: z.strictObject({
      providers: z.array(z.string()),
      clusters: z.array(z.string()),
      labels: z.record(z.string(), z.string()),
    }),
    allowAdminLevel: z.boolean(),
    namespacedCeiling: z.array(RuleBody),
    clusterWide: z.strictObject({ allowed: z.boolean(), ceiling: z.array(RuleBody) }),
    allowedLabelPrefixes: z.array(z.string()),
    podSecurity: z.strictObject({ minimum: z.enum(POD_SECURITY_LEVELS) }),
    network: z.strictObject({ allowed: z.array(z.enum(NETWORK_MODES)) }),
    mesh: z.strictObject({ allowUnconstrainedIntermediates: z.boolean() }),
    namespacePrefix: z.string(),
    maxOverall: z.record(z.string(), z.string()).optional(),
  }),
});

export const projectPolicyView = (view: ProjectPolicyView) => {
  const { maxOverall, ...policy } = view.policy;
  return projectPolicyBodyView(view, { ...policy, ...(maxOverall ? { maxOverall: pairsToMap(maxOverall) } : {}) });
};

const projectPolicyBodyView = (view: ProjectPolicyView, spec: Record<string, unknown>) => ({
  metadata: {
    project: view.project,
    custom: view.custom,
    ...(view.updatedAt ? { updatedAt: view.updatedAt.toISOString() } : {}),
    ...(view.updatedBy ? { updatedBy: view.updatedBy } : {}),
  },
  spec,
});
