/**
 * Who a tenant is on a cluster, and which namespaces no tenant may take. Plain names only.
 *
 * A tenant's Kubernetes identity is its client certificate: CN is the user name, O its
 * groups. The CN is `dcm:<project>:<logical cloud>:<user name>` (DCM names cannot contain
 * ":", so it is unambiguous; the design's user name stays visible at its end), which never
 * equals a person's name, a service account (`system:serviceaccount:…`) or another logical
 * cloud's tenant. RBAC never binds that name: bindings name the group in O,
 * `dcm:lc:<logical cloud id>:<generation id>`, unique to the logical cloud (its id is new
 * on every create) and to its credential generation (new on every revocation and after
 * every terminate), so a credential of one logical cloud never grants anything in another,
 * nor once its generation is over.
 */
import { createHash } from 'node:crypto';

/** RFC 5280's upper bound of a CN and of an O (ub-common-name, ub-organization-name). */
const X509_NAME_MAX = 64;
const PREFIX = 'dcm:';

/** The CN of a tenant's certificate. Longer than 64 characters, project and logical cloud become a hash. */
export function tenantUserName(project: string, logicalCloud: string, user: string): string {
  const full = `${PREFIX}${project}:${logicalCloud}:${user}`;
  if (full.length <= X509_NAME_MAX) return full;
  const hash = createHash('sha256').update(`${project}\n${logicalCloud}`).digest('hex').slice(0, 16);
  return `${PREFIX}${hash}:${user}`.slice(0, X509_NAME_MAX);
}

/** The group RBAC binds for one credential generation of a logical cloud (≤ 64 characters). */
export const tenantGroup = (logicalCloudId: string, generationId: string): string => `${PREFIX}lc:${logicalCloudId}:${generationId}`;

/** What RBAC binds: the generation's group (certificate users) or its ServiceAccount (token users). */
export type TenantSubject = { kind: 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

/** A tenant's identity for one credential generation. */
export interface TenantIdentity {
  /** The certificate's CN (see tenantUserName). */
  userName: string;
  /** The certificate's O (see tenantGroup). */
  group: string;
  generation: number;
  /** The only subject RBAC binds. */
  subject: TenantSubject;
}

/**
 * A token user's ServiceAccount in the logical cloud's namespace, one per credential generation:
 * a new generation deletes the old account, and with it every token issued for it.
 */
export const tenantServiceAccount = (generationId: string): string => `dcm-tenant-${generationId}`;

/** Namespaces of the DCM's own Istio control planes (`istio-<revision>`, revisions `dcm-…`). */
export const CONTROL_PLANE_NAMESPACE_PREFIX = 'istio-dcm-';

/** Who a namespace belongs to when no logical cloud may hold it, or undefined. */
export function reservedNamespaceOwner(namespace: string): string | undefined {
  if (namespace === 'default' || namespace.startsWith('kube-')) return 'Kubernetes';
  if (namespace === 'istio-system') return 'Istio (its default control plane)';
  if (namespace.startsWith(CONTROL_PLANE_NAMESPACE_PREFIX)) return "the DCM's service-mesh control planes";
  return undefined;
}
