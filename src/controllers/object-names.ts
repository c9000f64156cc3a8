/**
 * Names and labels of what the DCM creates on a cluster. DCM names allow upper case and
 * `_`, Kubernetes names do not: names are lower-cased slugs, with a short hash of the
 * original when the slug had to change it, so two DCM names never map to one object.
 */
import { createHash } from 'node:crypto';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'dcm';
export const LABEL_PROJECT = 'dcm.onap.org/project';
export const LABEL_LOGICAL_CLOUD = 'dcm.onap.org/logical-cloud';
/** Selects everything of one logical cloud: its id survives renames and fits a label value. */
export const LABEL_LOGICAL_CLOUD_ID = 'dcm.onap.org/logical-cloud-id';

const shortHash = (s: string, length = 6) => createHash('sha256').update(s).digest('hex').slice(0, length);

/** A DNS-1123 label-ish slug of a DCM name (≤ max chars). */
export function slug(name: string, max = 63): string {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  // A name of no ASCII letter or digit at all (a user "ユーザー") is its hash alone, never "-<hash>".
  if (s !== name || s.length > max)
    s = s ? `${s.slice(0, max - 7).replace(/-$/, '')}-${shortHash(name)}` : shortHash(name);
  return s || shortHash(name);
}

/** A label value: ≤63 chars of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 56).replace(/[-_.]+$/, '')}-${shortHash(name)}`;
}

export interface LogicalCloudIdentity {
  project: string;
  logicalCloud: string;
  logicalCloudId: string;
}

export const managedLabels = (id: LogicalCloudIdentity): Record<string, string> => ({
  [MANAGED_BY]: MANAGED_BY_VALUE,
  [LABEL_PROJECT]: labelValue(id.project),
  [LABEL_LOGICAL_CLOUD]: labelValue(id.logicalCloud),
  [LABEL_LOGICAL_CLOUD_ID]: id.logicalCloudId,
});

export const managedSelector = (id: LogicalCloudIdentity): string =>
  `${MANAGED_BY}=${MANAGED_BY_VALUE},${LABEL_LOGICAL_CLOUD_ID}=${id.logicalCloudId}`;

/** Namespaced objects only need to be unique in the logical cloud's own namespace. */
export const namespacedObjectName = (kind: 'permission' | 'quota', name: string): string =>
  `dcm-${kind === 'quota' ? 'quota-' : ''}${slug(name, 240)}`;

/** Cluster-scoped objects carry the logical cloud in their name. */
export const clusterObjectName = (id: LogicalCloudIdentity, permission: string): string =>
  `dcm-${slug(id.logicalCloud, 60)}-${id.logicalCloudId.slice(0, 8)}-${slug(permission, 120)}`;

export const csrName = (id: LogicalCloudIdentity, user: string): string =>
  `dcm-${slug(id.logicalCloud, 60)}-${id.logicalCloudId.slice(0, 8)}-${slug(user, 60)}`;

// ---- service mesh (CA and Istio control plane of a logical cloud) ------------------------------

/** The label that points a namespace's sidecar injection at an Istio revision. */
export const ISTIO_REVISION_LABEL = 'istio.io/rev';

/**
 * The Istio revision of a logical cloud's control planes: from its id, so stable (renames do
 * not exist, re-applies keep it), unique per logical cloud, and a DNS label that leaves room
 * for what Istio derives from it (`istiod-<revision>`, `istio-<revision>`: ≤ 63).
 */
export const meshRevision = (id: Pick<LogicalCloudIdentity, 'logicalCloudId'>): string =>
  `dcm-${id.logicalCloudId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 40)}`;

/** The namespace of a logical cloud's control plane on each cluster: istiod and its `cacerts` Secret (the `Istio` resource's spec.namespace). */
export const controlPlaneNamespace = (id: Pick<LogicalCloudIdentity, 'logicalCloudId'>): string =>
  `istio-${meshRevision(id)}`;

/** The Deployment of istiod that Sail (Istio's chart) creates for the revision, in the control-plane namespace. */
export const istiodDeploymentName = (id: Pick<LogicalCloudIdentity, 'logicalCloudId'>): string =>
  `istiod-${meshRevision(id)}`;

/** The SPIFFE trust domain of a logical cloud's mesh (meshConfig.trustDomain). */
export const meshTrustDomain = (id: Pick<LogicalCloudIdentity, 'logicalCloudId'>): string =>
  `${meshRevision(id)}.dcm.local`;

/** The service-account token audience a logical cloud's istiod accepts (and its sidecars' tokens carry): its trust domain. */
export const meshTokenAudience = (id: Pick<LogicalCloudIdentity, 'logicalCloudId'>): string => meshTrustDomain(id);

/** Istio's plug-in CA Secret, read by istiod from its own namespace. */
export const CACERTS_SECRET = 'cacerts';
