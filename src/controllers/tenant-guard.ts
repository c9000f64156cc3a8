/**
 * The tenant guard: one ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, enforced by
 * the API server itself: no webhook, no pod) and its binding per cluster, installed by every
 * apply (idempotent) and restored by drift repair. It refuses, to anyone but the DCM's own
 * identity on that cluster (the users of the kubeconfigs it was registered with, from
 * SelfSubjectReview):
 * - creating, changing or deleting objects that carry the DCM's managed-by label: the tenant's
 *   namespace (its Pod Security and DCM labels, annotations, finalizers), Roles, bindings,
 *   quotas, LimitRanges, NetworkPolicies, ServiceAccounts, Secrets; deletions inside a namespace
 *   being deleted (the namespace controller's clean-up) still go through;
 * - in a namespace of network mode DenyAll, a NetworkPolicy that allows egress outside the namespace.
 * A cluster that does not serve the v1 API gets a warning in status: drift repair only.
 */
import { objectDifferences } from '../kubernetes/object-differences.js';
import { NotFound, NotServed } from '../kubernetes/cluster-errors.js';
import { messageOf, type ClusterContext, type ResourceStatus } from './cluster-context.js';
import { MANAGED_BY, MANAGED_BY_VALUE } from './object-names.js';
import type { BuiltObject } from './objects.js';

export const GUARD_NAME = 'dcm-tenant-guard';
const ADMISSION = 'admissionregistration.k8s.io/v1';
/** The DCM identities the guard lets through, as JSON (several DCMs or kubeconfigs may manage one cluster). */
const EXEMPT_ANNOTATION = 'dcm.onap.org/exempt-users';
const MAX_EXEMPT_USERS = 16;
const NETWORK_MODE_LABEL = 'dcm.onap.org/network-isolation';

/** The resources whose DCM-managed objects only the DCM may touch. */
export const GUARDED_RESOURCES = {
  '': ['namespaces', 'resourcequotas', 'limitranges', 'serviceaccounts', 'secrets'],
  'rbac.authorization.k8s.io': ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'],
  'networking.k8s.io': ['networkpolicies'],
} as const;

/** A CEL string literal (JSON's escapes are CEL's). */
const cel = (s: string) => JSON.stringify(s);

const managedIn = (object: string) =>
  `${object} != null && has(${object}.metadata.labels) && ${cel(MANAGED_BY)} in ${object}.metadata.labels && ${object}.metadata.labels[${cel(MANAGED_BY)}] ` +
  `== ${cel(MANAGED_BY_VALUE)}`;

export function guardPolicy(exemptUsers: string[]): BuiltObject {
  const variables = [
    { name: 'dcm', expression: `request.userInfo.username in [${exemptUsers.map(cel).join(', ')}]` },
    { name: 'managed', expression: `(${managedIn('oldObject')}) || (${managedIn('object')})` },
    // The namespace controller empties a namespace being deleted; a Namespace being deleted is finalized by it.
    {
      name: 'cleanup',
      expression:
        `(request.operation == "DELETE" && namespaceObject != null && has(namespaceObject.metadata.deletionTimestamp)) ` +
        `|| (oldObject != null && has(oldObject.metadata.deletionTimestamp))`,
    },
    {
      name: 'denyAll',
      expression:
        `namespaceObject != null && has(namespaceObject.metadata.labels) && ${cel(NETWORK_MODE_LABEL)} in namespaceObject.metadata.labels ` +
        `&& namespaceObject.metadata.labels[${cel(NETWORK_MODE_LABEL)}] == "DenyAll"`,
    },
  ];
  const egressInside =
    'object == null || !has(object.spec.egress) || object.spec.egress.all(e, has(e.to) && size(e.to) > 0 && e.to.all(p, ' +
    'has(p.podSelector) && !has(p.namespaceSelector) && !has(p.ipBlock)))';
  return {
    apiVersion: ADMISSION,
    kind: 'ValidatingAdmissionPolicy',
    metadata: {
      name: GUARD_NAME,
      labels: { [MANAGED_BY]: MANAGED_BY_VALUE },
      annotations: { [EXEMPT_ANNOTATION]: JSON.stringify(exemptUsers) },
    },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: Object.entries(GUARDED_RESOURCES).map(([group, resources]) => ({
          apiGroups: [group],
          apiVersions: ['*'],
          operations: ['CREATE', 'UPDATE', 'DELETE'],
          resources: [...resources],
        })),
      },
      variables,
      validations: [
        {
          expression: 'variables.dcm || !variables.managed || variables.cleanup',
          message:
            `${GUARD_NAME}: this object is managed by the DCM (label ${MANAGED_BY}=${MANAGED_BY_VALUE}); only the ` +
            `DCM may create, change or delete it. Change the logical cloud through the DCM's API.`,
          reason: 'Forbidden',
        },
        {
          expression:
            `variables.dcm || request.resource.resource != "networkpolicies" || request.operation == "DELETE" || ` +
            `!variables.denyAll || (${egressInside})`,
          message:
            `${GUARD_NAME}: this namespace's network isolation is DenyAll: a NetworkPolicy here may allow egress ` +
            `only to pods of the same namespace (podSelector, no namespaceSelector or ipBlock).`,
          reason: 'Forbidden',
        },
      ],
    },
  };
}

export const guardBinding = (): BuiltObject => ({
  apiVersion: ADMISSION,
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name: GUARD_NAME, labels: { [MANAGED_BY]: MANAGED_BY_VALUE } },
  spec: { policyName: GUARD_NAME, validationActions: ['Deny'] },
});

/** The exempt users an existing guard lists, with `user` added (most recent last, bounded). */
export function mergeExemptUsers(existing: BuiltObject | undefined, user: string): string[] {
  let listed: string[] = [];
  try {
    const parsed: unknown = JSON.parse(existing?.metadata.annotations?.[EXEMPT_ANNOTATION] ?? '[]');
    if (Array.isArray(parsed))
      listed = parsed.filter((u): u is string => typeof u === 'string' && u.length > 0 && u.length <= 512);
  } catch {
    listed = [];
  }
  if (listed.includes(user)) return listed;
  return [...listed, user].slice(-MAX_EXEMPT_USERS);
}

/** Who the DCM is on a cluster (SelfSubjectReview); a cluster before 1.28 serves no v1 admission policies either. */
export async function dcmUserOn(ctx: ClusterContext): Promise<string> {
  try {
    return (await ctx.connection.whoAmI()).username;
  } catch (error) {
    if (error instanceof NotFound)
      throw new NotServed('the cluster does not serve authentication.k8s.io/v1 SelfSubjectReview');
    throw error;
  }
}

const guardRef = (kind: string) => ({ apiVersion: ADMISSION, kind, name: GUARD_NAME });

/**
 * Installs (or brings up to date) the guard on the cluster of `ctx`: both objects are read at
 * once and written only where they differ (an apply after the first costs two reads). `user`:
 * the DCM's identity there. Returns its line of status; a cluster that does not serve the v1
 * API gets a warning instead of a failure.
 */
export async function ensureTenantGuard(ctx: ClusterContext, user: () => Promise<string>): Promise<ResourceStatus> {
  const line = { category: 'isolation', kind: 'ValidatingAdmissionPolicy', name: GUARD_NAME } as const;
  try {
    const [username, policyThere, bindingThere] = await Promise.all([
      user(),
      ctx.connection.read<BuiltObject>(guardRef('ValidatingAdmissionPolicy')),
      ctx.connection.read<BuiltObject>(guardRef('ValidatingAdmissionPolicyBinding')),
    ]);
    const policy = guardPolicy(mergeExemptUsers(policyThere, username));
    const binding = guardBinding();
    const stale = (desired: BuiltObject, there: BuiltObject | undefined) =>
      !there || objectDifferences(desired, there).length > 0;
    // The policy before its binding: a binding never names a policy that is not (yet) there.
    if (stale(policy, policyThere)) await ctx.connection.apply(policy);
    if (stale(binding, bindingThere)) await ctx.connection.apply(binding);
    return { ...line, status: 'Created' };
  } catch (error) {
    if (error instanceof NotServed) {
      const message = `guard not enforced on this cluster (it does not serve ${ADMISSION} ValidatingAdmissionPolicy, Kubernetes ≥ 1.30); drift repair only`;
      ctx.warnings.push({
        permission: '*',
        resource: 'validatingadmissionpolicies',
        group: 'admissionregistration.k8s.io',
        message,
      });
      return { ...line, status: 'Created', message };
    }
    return { ...line, status: 'Failed', message: messageOf(error) };
  }
}
