/**
 * The namespace object is the DCM's, never the tenant's. Kubernetes authorizes requests to the
 * Namespace `<ns>` itself (get, patch its labels, delete it, `namespaces/finalize`) against the
 * Roles in `<ns>`: a namespaced rule that covers `namespaces` would let the tenant relabel its own
 * namespace (Pod Security) or delete it. So a namespaced rule naming `namespaces` is refused
 * (400), and a `*` resource of the core group is written as the cluster's core resources less
 * `namespaces` and its subresources (other groups keep `*`; a group that appears later is
 * covered at the next apply or drift resync).
 */
import type { PermissionRule as PolicyRule } from '../domain/logical-cloud.js';

/** Resource → the API groups that serve it (the cluster's discovery), subresources as `pods/log`. */
export type ServedResourceMap = Map<string, Set<string>>;

const isNamespaceResource = (resource: string) => resource === 'namespaces' || resource.startsWith('namespaces/');
const touchesCore = (rule: Pick<PolicyRule, 'apiGroups'>) =>
  rule.apiGroups.includes('') || rule.apiGroups.includes('*');

/** Why a namespaced rule may not be written as given, or undefined. */
export function namespaceObjectRuleProblem(rule: Pick<PolicyRule, 'apiGroups' | 'resources'>): string | undefined {
  if (!touchesCore(rule)) return undefined;
  const named = rule.resources.find(isNamespaceResource);
  return named === undefined
    ? undefined
    : `${named}: the logical cloud's Namespace object is the DCM's (its Pod Security labels are the boundary); a namespaced permission cannot grant it`;
}

/** Core resources of every cluster, for when discovery cannot be read: the namespaced ones a tenant works with. */
const FALLBACK_CORE = [
  'bindings',
  'configmaps',
  'endpoints',
  'events',
  'limitranges',
  'persistentvolumeclaims',
  'persistentvolumeclaims/status',
  'pods',
  'pods/attach',
  'pods/binding',
  'pods/ephemeralcontainers',
  'pods/eviction',
  'pods/exec',
  'pods/log',
  'pods/portforward',
  'pods/proxy',
  'pods/status',
  'podtemplates',
  'replicationcontrollers',
  'replicationcontrollers/scale',
  'replicationcontrollers/status',
  'resourcequotas',
  'resourcequotas/status',
  'secrets',
  'serviceaccounts',
  'serviceaccounts/token',
  'services',
  'services/proxy',
  'services/status',
];

/**
 * The rules a namespaced permission is written as on a cluster: without `namespaces` (and its
 * subresources), `*` of the core group expanded from `served` (or a fixed list when undefined).
 */
export function namespacedRulesFor(rule: PolicyRule, served: ServedResourceMap | undefined): PolicyRule[] {
  if (!touchesCore(rule)) return [rule];
  const resources = rule.resources.filter((r) => !isNamespaceResource(r));
  if (!resources.includes('*')) return resources.length > 0 ? [{ ...rule, resources }] : [];
  const core = served
    ? [...served]
        .filter(([resource, groups]) => groups.has('') && !isNamespaceResource(resource))
        .map(([resource]) => resource)
    : FALLBACK_CORE;
  const rules: PolicyRule[] = [{ apiGroups: [''], resources: [...new Set(core)].sort(), verbs: rule.verbs }];
  const otherGroups = rule.apiGroups.includes('*')
    ? served
      ? [...new Set([...served.values()].flatMap((groups) => [...groups]))].filter((g) => g !== '').sort()
      : ['*']
    : rule.apiGroups.filter((g) => g !== '');
  // Without discovery, `*` of the other groups would still cover the core group: it is left out then.
  const named = otherGroups.filter((g) => g !== '*');
  if (named.length > 0) rules.push({ apiGroups: named, resources: ['*'], verbs: rule.verbs });
  return rules;
}
