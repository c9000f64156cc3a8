/**
 * What the drift watcher watches and keeps of the objects it sees: the managed kinds, what of
 * an object can be drift (its content hash), where a logical cloud's objects may lie, and the
 * content last seen of each followed object (bounded per logical cloud and cluster).
 */
import { createHash } from 'node:crypto';
import { MANAGED_BY, MANAGED_BY_VALUE, controlPlaneNamespace } from '../../controllers/object-names.js';
import {
  ISTIO_API_VERSION,
  ISTIO_KIND,
  ISTIO_OPERATOR_API_VERSION,
  ISTIO_OPERATOR_KIND,
} from '../../controllers/istio-resource.js';

/** The watches' label selector: the objects the DCM manages. */
export const WATCH_SELECTOR = `${MANAGED_BY}=${MANAGED_BY_VALUE}`;

/** The kinds the DCM manages on a cluster (each carries the managed-by label). */
const kindsOf = (apiVersion: string, kinds: string[]) => kinds.map((kind) => ({ apiVersion, kind }));

export const WATCHED_KINDS: readonly { apiVersion: string; kind: string }[] = [
  ...kindsOf('v1', ['Namespace', 'ResourceQuota', 'Secret', 'ServiceAccount', 'LimitRange']),
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  // The cluster's tenant guard (no logical cloud's own: a change is checked through one logical cloud on the cluster).
  ...kindsOf('admissionregistration.k8s.io/v1', ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
  ...kindsOf('rbac.authorization.k8s.io/v1', ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']),
  { apiVersion: ISTIO_API_VERSION, kind: ISTIO_KIND },
  { apiVersion: ISTIO_OPERATOR_API_VERSION, kind: ISTIO_OPERATOR_KIND },
];

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchedObject {
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: unknown;
  };
  [field: string]: unknown;
}

/**
 * What of an object can be drift: everything but its status and the bookkeeping the API server
 * keeps. A quota's usage or a namespace's phase changes often and is nobody's drift.
 */
export function contentHash(object: WatchedObject): string {
  const { status: _status, metadata, ...rest } = object;
  const kept = {
    labels: metadata?.labels,
    annotations: metadata?.annotations,
    deleting: metadata?.deletionTimestamp !== undefined,
    rest,
  };
  return createHash('sha1').update(JSON.stringify(kept)).digest('base64');
}

/** What the watcher needs of a cluster connection. */
export interface WatchingConnection {
  watch(
    apiVersion: string,
    kind: string,
    opts: { labelSelector?: string },
    handlers: { event(type: WatchEventType, object: WatchedObject): void; closed(error?: Error): void },
  ): Promise<{ stop(): void }>;
  close(): void;
}

/** Where an object is, as far as its logical cloud's namespace is concerned. */
export interface ObjectPlace {
  kind: string | undefined;
  name: string | undefined;
  namespace: string | undefined;
}

/** Whether the object lies where the logical cloud's objects lie: its namespace or its control-plane namespace (cluster-scoped kinds: anywhere). */
export function inPlace(id: string, namespace: string, place: ObjectPlace): boolean {
  const allowed = [namespace, controlPlaneNamespace({ logicalCloudId: id })];
  if (place.namespace) return allowed.includes(place.namespace);
  if (place.kind === 'Namespace') return allowed.includes(place.name ?? '');
  return true;
}

/** Objects of one logical cloud on one cluster whose content the watcher keeps; beyond, a change of another one always starts a check. */
export const MAX_OBJECTS_PER_LOGICAL_CLOUD = 2000;

/**
 * The content of every followed object as last seen, by `cluster|uid` (a change of status alone
 * starts no check), and how many are kept per `cluster|logical cloud id` (at most MAX_OBJECTS_PER_LOGICAL_CLOUD).
 */
export class SeenObjects {
  private readonly seen = new Map<string, { hash: string; logicalCloudId: string }>();
  private readonly kept = new Map<string, number>();

  get size(): number {
    return this.seen.size;
  }

  get(key: string): { hash: string; logicalCloudId: string } | undefined {
    return this.seen.get(key);
  }

  /** Keeps the object's content, unless its logical cloud has MAX_OBJECTS_PER_LOGICAL_CLOUD kept on the cluster already. */
  keep(cluster: string, key: string, hash: string, id: string): void {
    const before = this.seen.get(key);
    if (before?.logicalCloudId !== id) {
      if (before) this.forget(cluster, key);
      const counter = `${cluster}|${id}`;
      const count = this.kept.get(counter) ?? 0;
      if (count >= MAX_OBJECTS_PER_LOGICAL_CLOUD) return;
      this.kept.set(counter, count + 1);
    }
    this.seen.set(key, { hash, logicalCloudId: id });
  }

  forget(cluster: string, key: string): void {
    const before = this.seen.get(key);
    if (!before) return;
    this.seen.delete(key);
    const counter = `${cluster}|${before.logicalCloudId}`;
    const count = (this.kept.get(counter) ?? 1) - 1;
    if (count > 0) this.kept.set(counter, count);
    else this.kept.delete(counter);
  }

  /** Forgets every object of the cluster. */
  forgetCluster(cluster: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(`${cluster}|`)) this.seen.delete(key);
    for (const key of this.kept.keys()) if (key.startsWith(`${cluster}|`)) this.kept.delete(key);
  }

  /** Forgets the cluster's objects of logical clouds other than `known`. */
  forgetAllBut(cluster: string, known: ReadonlyMap<string, string>): void {
    for (const [key, entry] of this.seen)
      if (key.startsWith(`${cluster}|`) && !known.has(entry.logicalCloudId)) this.forget(cluster, key);
  }
}
