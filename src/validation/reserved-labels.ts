/**
 * The label prefixes of Kubernetes, Istio and the DCM that a tenant's Namespace may not carry, and
 * the prefixes a project policy may allow.
 */
import { isDns1123Subdomain, SUBDOMAIN } from './kubernetes-names.js';
import { boundedString, LIMITS } from './limits.js';

/**
 * Label prefixes only Kubernetes, Istio or the DCM itself may set on a tenant's Namespace: the
 * DCM writes a logical cloud's labels with admin credentials, so `pod-security.kubernetes.io/enforce`
 * or `istio.io/rev` there would change what the cluster enforces or which mesh injects the tenant.
 * `app.kubernetes.io/` is the recommended labels' prefix (any tenant may use it) except `managed-by`.
 */
const RESERVED_LABEL_DOMAINS: { domain: string; owner: string }[] = [
  { domain: 'kubernetes.io', owner: 'Kubernetes' },
  { domain: 'k8s.io', owner: 'Kubernetes' },
  { domain: 'istio.io', owner: 'Istio' },
  { domain: 'dcm.onap.org', owner: 'the DCM' },
];
const RECOMMENDED_LABEL_PREFIX = 'app.kubernetes.io';
const RESERVED_LABEL_KEYS: Record<string, string> = {
  'app.kubernetes.io/managed-by': 'the DCM (it manages the Namespace)',
};

const underDomain = (prefix: string, domain: string): boolean => prefix === domain || prefix.endsWith(`.${domain}`);

/**
 * Why a logical cloud may not carry label `key` on its Namespace, or undefined when it may.
 * `allowedPrefixes` (`<dns subdomain>/`, from the project's policy) lift the refusal for keys
 * starting with them, except under the DCM's own prefixes.
 */
export function reservedLabelKeyReason(key: string, allowedPrefixes: readonly string[] = []): string | undefined {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash).toLowerCase();
  const dcmOwn = RESERVED_LABEL_DOMAINS.find((r) => r.owner === 'the DCM' && underDomain(prefix, r.domain));
  if (!dcmOwn && allowedPrefixes.some((allowed) => key.startsWith(allowed))) return undefined;
  const keyOwner = RESERVED_LABEL_KEYS[key];
  if (keyOwner)
    return `label ${key} is set by ${keyOwner}; a logical cloud may not set it unless the project's policy allows its prefix (allowedLabelPrefixes)`;
  if (prefix === RECOMMENDED_LABEL_PREFIX) return undefined;
  const reserved = dcmOwn ?? RESERVED_LABEL_DOMAINS.find((r) => underDomain(prefix, r.domain));
  if (!reserved) return undefined;
  const lift =
    reserved === dcmOwn ? '' : "; an admin may allow the prefix in the project's policy (allowedLabelPrefixes)";
  return `label keys under ${reserved.domain} are reserved for ${reserved.owner} (the DCM sets Namespace labels with admin credentials)${lift}`;
}

/** A prefix a project policy may allow: `<DNS-1123 subdomain>/`, not one of the DCM's own. */
export const allowedLabelPrefix = boundedString(LIMITS.apiGroupLength + 1)
  .refine((s) => s.endsWith('/') && isDns1123Subdomain(s.slice(0, -1)), {
    message: 'a label prefix is a DNS subdomain followed by "/", e.g. pod-security.kubernetes.io/',
  })
  .refine((s) => !RESERVED_LABEL_DOMAINS.some((r) => r.owner === 'the DCM' && underDomain(s.slice(0, -1), r.domain)), {
    message: "the DCM's own label prefixes (dcm.onap.org/) cannot be allowed",
  })
  .meta({ pattern: `^(?!(?:[^/]*\\.)?dcm\\.onap\\.org/$)${SUBDOMAIN}/$`, maxLength: LIMITS.apiGroupLength + 1 });
