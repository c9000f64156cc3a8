/**
 * The tenant boundary of a project: what its logical clouds may obtain on clusters when a
 * non-admin caller asks (admins are not bounded). Pure functions over plain data; the
 * project-policies feature stores a policy per project and enforces it on every write.
 *
 * Rule coverage is the test the Kubernetes API server applies against RBAC escalation
 * (k8s.io/component-helpers/auth/rbac/validation: Covers / ruleCovers): a requested rule is
 * broken down into one (group, resource, verb) triple at a time, and each triple must be
 * covered by one ceiling rule, where `*` in the ceiling covers anything but `*` in a request
 * is only covered by `*` (so `verbs: ["*"]` never slips past a ceiling of listed verbs), and
 * a ceiling resource `*\/scale` covers the `scale` subresource of every resource.
 */

import type { KeyValue } from '../domain/records.js';
import {
  DEFAULT_POD_SECURITY,
  NETWORK_MODES,
  type NetworkMode,
  type PodSecurityLevel,
} from '../domain/logical-cloud.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface ClusterSelection {
  /** Every cluster of these cluster providers. */
  providers: string[];
  /** These clusters, as `provider/cluster`. */
  clusters: string[];
  /** Clusters carrying every one of these labels (none: this clause selects nothing). */
  labels: Record<string, string>;
}

export interface ProjectPolicy {
  /** The clusters the project's logical clouds may reference: any clause that matches admits a cluster. */
  clusters: ClusterSelection;
  /** Whether admin-level (level "0") logical clouds, which hand out the clusters' own access, are allowed. */
  allowAdminLevel: boolean;
  /** The ceiling of permissions in the logical cloud's own namespace (Role + RoleBinding). */
  namespacedCeiling: PolicyRule[];
  /** Cluster-wide (namespace "") permissions: allowed at all, and their ceiling (ClusterRole + ClusterRoleBinding). */
  clusterWide: { allowed: boolean; ceiling: PolicyRule[] };
  /**
   * Label prefixes (`<dns subdomain>/`, e.g. `pod-security.kubernetes.io/`) the project's logical
   * clouds may set on their Namespace although Kubernetes or Istio reserve them. Binds admins too.
   */
  allowedLabelPrefixes: string[];
  /** The least strict Pod Security level a project caller may ask for (default baseline: `privileged` needs an admin). */
  podSecurity: { minimum: PodSecurityLevel };
  /** The network isolation modes a project caller may ask for (default: all three). */
  network: { allowed: NetworkMode[] };
  /** Whether a project caller may turn the mesh CA's URI name constraint off (`serviceMesh.nameConstraints: false`). */
  mesh: { allowUnconstrainedIntermediates: boolean };
  /** What the namespaces of the project's logical clouds must start with ('' : anything), like Capsule's forceTenantPrefix. Binds admins too. */
  namespacePrefix: string;
  /** The most an overall quota of the project's logical clouds may set per key (quota key → quantity), when set; binds project callers. */
  maxOverall?: KeyValue[];
}

/** The verbs of the Kubernetes API itself; the default ceilings list them instead of `*`. */
const API_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ_VERBS = ['get', 'list', 'watch'];

/**
 * A new project's ceiling in its own namespace: every resource, with the API verbs only.
 * `escalate`, `bind`, `impersonate` (and `*`, which would include them) are outside it.
 */
export const DEFAULT_NAMESPACED_CEILING: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: API_VERBS }];

/**
 * The cluster-wide ceiling when an admin allows cluster-wide permissions without giving one:
 * reading cluster-scoped objects that hold no secrets. Secrets, RBAC, CSRs and admission
 * configuration are outside it.
 */
export const DEFAULT_CLUSTER_WIDE_CEILING: PolicyRule[] = [
  { apiGroups: [''], resources: ['namespaces', 'nodes', 'persistentvolumes'], verbs: READ_VERBS },
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csidrivers', 'csinodes'], verbs: READ_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['ingressclasses'], verbs: READ_VERBS },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ_VERBS },
  { apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: READ_VERBS },
  { apiGroups: ['node.k8s.io'], resources: ['runtimeclasses'], verbs: READ_VERBS },
];

/** A new project: namespaced rules in the logical cloud's own namespace, no clusters until an admin grants some, no level 0. */
export const defaultProjectPolicy = (): ProjectPolicy => ({
  clusters: { providers: [], clusters: [], labels: {} },
  allowAdminLevel: false,
  namespacedCeiling: DEFAULT_NAMESPACED_CEILING.map(copyRule),
  clusterWide: { allowed: false, ceiling: [] },
  allowedLabelPrefixes: [],
  podSecurity: { minimum: DEFAULT_POD_SECURITY },
  network: { allowed: [...NETWORK_MODES] },
  mesh: { allowUnconstrainedIntermediates: false },
  namespacePrefix: '',
});

/** A stored policy from before a field existed: the field's default. */
export function withPolicyDefaults(
  policy: Partial<ProjectPolicy> &
    Omit<ProjectPolicy, 'allowedLabelPrefixes' | 'podSecurity' | 'network' | 'mesh' | 'namespacePrefix'>,
): ProjectPolicy {
  const defaults = defaultProjectPolicy();
  return {
    ...policy,
    allowedLabelPrefixes: policy.allowedLabelPrefixes ?? defaults.allowedLabelPrefixes,
    podSecurity: policy.podSecurity ?? defaults.podSecurity,
    network: policy.network ?? defaults.network,
    mesh: policy.mesh ?? defaults.mesh,
    namespacePrefix: policy.namespacePrefix ?? defaults.namespacePrefix,
  };
}

function copyRule(rule: PolicyRule): PolicyRule {
  return { apiGroups: [...rule.apiGroups], resources: [...rule.resources], verbs: [...rule.verbs] };
}

const ALL = '*';

function resourceCovered(ceiling: string[], resource: string): boolean {
  if (ceiling.includes(ALL) || ceiling.includes(resource)) return true;
  const slash = resource.indexOf('/');
  return slash > 0 && ceiling.includes(`*${resource.slice(slash)}`);
}

/** One (group, resource, verb) of a requested rule that no ceiling rule covers. */
export interface UncoveredGrant {
  apiGroup: string;
  resource: string;
  verb: string;
}

/** The first triple of `rule` that no rule of `ceiling` covers, or undefined when the ceiling covers it all. */
export function uncoveredGrant(ceiling: PolicyRule[], rule: PolicyRule): UncoveredGrant | undefined {
  // Linear in (triples × ceiling rules); each list is bounded by the schemas.
  for (const apiGroup of rule.apiGroups) {
    const groupRules = ceiling.filter((c) => c.apiGroups.includes(ALL) || c.apiGroups.includes(apiGroup));
    for (const resource of rule.resources) {
      const resourceRules = groupRules.filter((c) => resourceCovered(c.resources, resource));
      for (const verb of rule.verbs) {
        if (!resourceRules.some((c) => c.verbs.includes(ALL) || c.verbs.includes(verb)))
          return { apiGroup, resource, verb };
      }
    }
  }
  return undefined;
}

export const describeGrant = (g: UncoveredGrant): string =>
  `verb "${g.verb}" on resource "${g.resource}" of API group "${g.apiGroup}"`;

export interface PolicyCluster {
  provider: string;
  name: string;
  labels: Record<string, string>;
}

/** Whether the policy admits the cluster, and through which clause. */
export function clusterAdmitted(selection: ClusterSelection, cluster: PolicyCluster): boolean {
  if (selection.providers.includes(cluster.provider)) return true;
  if (selection.clusters.includes(`${cluster.provider}/${cluster.name}`)) return true;
  const wanted = Object.entries(selection.labels);
  return wanted.length > 0 && wanted.every(([key, value]) => cluster.labels[key] === value);
}

/** A permission as the policy judges it: where it applies, and its rule. */
export interface RequestedPermission extends PolicyRule {
  name: string;
  /** '' for cluster-wide; anything else is the logical cloud's own namespace. */
  namespace: string;
}

/** Why the policy refuses the permission, or undefined when it allows it. */
export function permissionRefusal(policy: ProjectPolicy, permission: RequestedPermission): string | undefined {
  const clusterWide = permission.namespace === '';
  if (clusterWide && !policy.clusterWide.allowed) {
    return `permission ${permission.name} is cluster-wide (namespace ""), which the project's policy does not allow`;
  }
  const ceiling = clusterWide ? policy.clusterWide.ceiling : policy.namespacedCeiling;
  const uncovered = uncoveredGrant(ceiling, permission);
  if (!uncovered) return undefined;
  const which = clusterWide ? 'cluster-wide ceiling' : 'namespaced ceiling';
  const hint =
    uncovered.verb === ALL || uncovered.resource === ALL || uncovered.apiGroup === ALL
      ? ' (list the verbs, resources and groups instead of "*")'
      : '';
  return `permission ${permission.name} asks for ${describeGrant(uncovered)}, which the project's ${which} does not cover${hint}`;
}
