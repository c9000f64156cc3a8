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
export const tenantGroup = (logicalCloudId: string, generationId: string): string =>
  `${PREFIX}lc:${logicalCloudId}:${generationId}`;

/** What RBAC binds: the generation's group (certificate users) or its ServiceAccount (token users). */
export type TenantSubject =
  { kind: 'Group'; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

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

/**
 * Namespaces of common cluster add-ons, reserved unless DCM_RESERVED_NAMESPACES says otherwise, and
 * whom the 409 names as their owner: a tenant must not claim a namespace before the operator
 * installs there. Entries are names or `prefix*` patterns (every name starting with prefix).
 */
const KNOWN_OWNERS: ReadonlyMap<string, string> = new Map([
  ['istio-system', 'Istio (its default control plane)'],
  ['istio-*', 'Istio'],
  ['sail-operator', 'the Sail Operator'],
  ['cert-manager', 'cert-manager'],
  ['argocd', 'Argo CD'],
  ['flux-system', 'Flux'],
  ['monitoring', "the cluster's monitoring"],
  ['gatekeeper-system', 'OPA Gatekeeper'],
  ['kyverno', 'Kyverno'],
]);

/** The default of DCM_RESERVED_NAMESPACES. */
export const DEFAULT_RESERVED_NAMESPACES: readonly string[] = Object.freeze([...KNOWN_OWNERS.keys()]);

/** At most this many entries in DCM_RESERVED_NAMESPACES. */
export const MAX_RESERVED_NAMESPACES = 256;

/** Whom a 409 names for a configured entry that is none of the known add-ons. */
export const CONFIGURED_OWNER = "the cluster's operators (a reserved namespace)";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A label's beginning (1-62 characters, so at least one more fits) and `*`. */
const DNS1123_LABEL_PREFIX_PATTERN = /^[a-z0-9][-a-z0-9]{0,61}\*$/;

/**
 * Reads DCM_RESERVED_NAMESPACES: comma-separated names (DNS-1123 labels) and `prefix*` patterns
 * (a label's beginning and `*`, e.g. `istio-*`), blanks around entries ignored; an empty value
 * reserves nothing beyond what is always reserved. Returns the entries, or what is wrong.
 */
export function parseReservedNamespaces(value: string): string[] | { problem: string } {
  if (value.trim() === '') return [];
  const entries = value.split(',').map((e) => e.trim());
  if (entries.length > MAX_RESERVED_NAMESPACES)
    return { problem: `at most ${MAX_RESERVED_NAMESPACES} entries (got ${entries.length})` };
  const wrong = entries.filter((e) => !DNS1123_LABEL.test(e) && !DNS1123_LABEL_PREFIX_PATTERN.test(e));
  if (wrong.length > 0) {
    const shown = wrong.slice(0, 5).map((e) => (e === '' ? '(an empty entry)' : JSON.stringify(e.slice(0, 80))));
    return {
      problem:
        `${shown.join(', ')}${wrong.length > 5 ? ` and ${wrong.length - 5} more` : ''}: each entry is a namespace ` +
        `name (a DNS-1123 label: a-z 0-9 -, at most 63) or a name's beginning followed by * (e.g. istio-*), comma-separated`,
    };
  }
  return [...new Set(entries)];
}

const matches = (entry: string, namespace: string): boolean =>
  entry.endsWith('*') ? namespace.startsWith(entry.slice(0, -1)) : namespace === entry;

/**
 * Who a namespace belongs to when no logical cloud may hold it, or undefined. Kubernetes'
 * own (`default`, `kube-*`) and the DCM's control planes are always reserved; `reserved`
 * (DCM_RESERVED_NAMESPACES, see DEFAULT_RESERVED_NAMESPACES) adds the rest. A name listed
 * as such wins over a pattern, a longer pattern over a shorter one.
 */
export function reservedNamespaceOwner(namespace: string, reserved: readonly string[]): string | undefined {
  if (namespace === 'default' || namespace.startsWith('kube-')) return 'Kubernetes';
  if (namespace.startsWith(CONTROL_PLANE_NAMESPACE_PREFIX)) return "the DCM's service-mesh control planes";
  let best: string | undefined;
  for (const entry of reserved) {
    if (!matches(entry, namespace)) continue;
    if (!entry.endsWith('*')) {
      best = entry;
      break;
    }
    if (best === undefined || entry.length > best.length) best = entry;
  }
  return best === undefined ? undefined : (KNOWN_OWNERS.get(best) ?? CONFIGURED_OWNER);
}
