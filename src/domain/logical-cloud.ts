/** A logical cloud and its children as the DCM stores them (all keyed by the logical cloud's id). */
import type { Described, KeyValue, StoredRecord } from './records.js';

/** "0": admin (use the clusters' own admin access, create nothing); "1": a tenant with its own user. */
export type LogicalCloudLevel = '0' | '1';

export interface LogicalCloudUser {
  name: string;
  /** certificate: a client certificate per cluster; token: a ServiceAccount and bound tokens (clusters that sign no client certificates). */
  type: 'certificate' | 'token';
}

/** An Istio control plane (and a CA of its own) per cluster; absent on records from before it existed: off. */
export interface ServiceMeshSettings {
  enabled: boolean;
  network?: string;
  /**
   * Whether each cluster's intermediate CA carries the critical URI name constraint of the
   * logical cloud's trust domain (absent: true). false for ambient mode: ztunnel (rustls-webpki)
   * rejects chains with URI name constraints.
   */
  nameConstraints?: boolean;
}

/** Pod Security Standards levels, most to least strict. */
export const POD_SECURITY_LEVELS = ['restricted', 'baseline', 'privileged'] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/** Network isolation of the namespace (after Azure Fleet's managed namespaces). */
export const NETWORK_MODES = ['AllowSameNamespace', 'DenyAll', 'AllowAll'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export interface ResourcePair {
  cpu?: string;
  memory?: string;
}

/** Requests and limits a container without `resources:` gets (a LimitRange). */
export interface ContainerDefaults {
  requests?: ResourcePair;
  limits?: ResourcePair;
}

/** How the namespace of a standard (level 1) logical cloud is made a boundary; absent fields take the defaults. */
export interface IsolationSettings {
  podSecurity?: PodSecurityLevel;
  network?: NetworkMode;
  containerDefaults?: ContainerDefaults;
}

export const DEFAULT_POD_SECURITY: PodSecurityLevel = 'baseline';
export const DEFAULT_NETWORK_MODE: NetworkMode = 'AllowSameNamespace';
/** The DCM's container defaults (each capped by the logical cloud's quotas when applied). */
export const DEFAULT_CONTAINER_DEFAULTS: Required<{
  requests: Required<ResourcePair>;
  limits: Required<ResourcePair>;
}> = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '512Mi' },
};

/** Whether level `a` is at least as strict as level `b`. */
export const atLeastAsStrict = (a: PodSecurityLevel, b: PodSecurityLevel): boolean =>
  POD_SECURITY_LEVELS.indexOf(a) <= POD_SECURITY_LEVELS.indexOf(b);

export const podSecurityOf = (data: Pick<LogicalCloudData, 'isolation'>): PodSecurityLevel =>
  data.isolation?.podSecurity ?? DEFAULT_POD_SECURITY;
export const networkModeOf = (data: Pick<LogicalCloudData, 'isolation'>): NetworkMode =>
  data.isolation?.network ?? DEFAULT_NETWORK_MODE;

export interface LogicalCloudData extends Described {
  namespace: string;
  level: LogicalCloudLevel;
  labels: KeyValue[];
  user?: LogicalCloudUser;
  serviceMesh?: ServiceMeshSettings;
  /**
   * What the DCM does when an object it applied is changed or deleted on a cluster (drift):
   * `enabled` (absent: enabled) restores it; `paused` only reports it in status.
   */
  reconcile?: ReconcileMode;
  /** Pod Security, container defaults and network isolation of the namespace (level 1 only; absent: the defaults). */
  isolation?: IsolationSettings;
  /** The clusters chosen by their labels (docs/cluster-selection.md); absent: only hand-made references. */
  clusterSelector?: ClusterSelector;
  /** What happens to what was applied on a cluster that leaves the selection (absent: Terminate). */
  clusterSelection?: { removal: SelectionRemoval };
}

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

/** A Kubernetes label selector over registered clusters, optionally limited to some cluster providers. */
export interface ClusterSelector {
  providers?: string[];
  /** As pairs: a label key may hold dots, which a stored field name may not. */
  matchLabels?: KeyValue[];
  matchExpressions?: { key: string; operator: SelectorOperator; values?: string[] }[];
}

export type SelectionRemoval = 'Terminate' | 'Keep';

export type ReconcileMode = 'enabled' | 'paused';

export const reconcilePaused = (data: Pick<LogicalCloudData, 'reconcile'>): boolean => data.reconcile === 'paused';

export const meshEnabled = (data: Pick<LogicalCloudData, 'serviceMesh'>): boolean => data.serviceMesh?.enabled === true;

export interface PermissionRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface PermissionData extends PermissionRule {
  /** The logical cloud's namespace (a Role), or '' for cluster-wide (a ClusterRole). */
  namespace: string;
}

export interface ClusterReferenceData extends Described {
  clusterProvider: string;
  cluster: string;
  loadbalancerIp: string;
  /** Made and removed by the logical cloud's spec.clusterSelector, not by hand. */
  selected?: boolean;
  /** A selected cluster that left the selection under `removal: Keep`: what was applied stays until an admin removes the reference. */
  orphaned?: boolean;
}

export interface ClusterQuotaData extends Described {
  /** ResourceQuota `hard` entries, keys as the client wrote them. */
  spec: KeyValue[];
}

export type KvValue = string | number | boolean | null;

export interface KvPairData extends Described {
  kv: KeyValue<KvValue>[];
}

export type LogicalCloudRecord = StoredRecord<LogicalCloudData>;
export type PermissionRecord = StoredRecord<PermissionData>;
export type ClusterReferenceRecord = StoredRecord<ClusterReferenceData>;
export type ClusterQuotaRecord = StoredRecord<ClusterQuotaData>;
export type KvPairRecord = StoredRecord<KvPairData>;

export const CHILD_SCOPE = ['logicalCloudId'] as const;
