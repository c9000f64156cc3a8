/** How the lifecycle service is set up (see lifecycle.service.ts). */
import type { EventBus } from '../../jobs/event-bus.js';
import type { ClusterGatewayProvider } from '../../kubernetes/cluster-gateway.js';
import type { ClusterHealth } from '../cluster-registry/cluster-health.store.js';
import type { DriftEvent } from '../drift/drift-events.store.js';
import type { LifecycleObserver } from './lifecycle-observer.js';
import type { OverallQuotaStatus } from '../../domain/overall-quota.js';
import type { StopRequestStore } from './stop-requests.store.js';

/** What status shows of a logical cloud's cluster selection: the clusters in, out and why, when it last changed. */
export interface ClusterSelectionSummary {
  selected: { provider: string; cluster: string; pending?: string }[];
  excluded: { provider: string; cluster: string; reason: string; message: string }[];
  changedAt: Date;
  cause: string;
}

export interface LifecycleOptions {
  /** Clusters of one operation worked at once. */
  concurrency: number;
  /** Operations (apply, terminate) worked at once on this replica; the others wait their turn. */
  operationsConcurrency?: number;
  /** This replica's name in leases. */
  replicaId: string;
  /** How long a claim on a logical cloud lasts unless renewed (renewed every third of it). */
  leaseTtlMs: number;
  /** The one way to reach a cluster (apply, terminate, tenant tokens). */
  gateways: ClusterGatewayProvider;
  observer?: LifecycleObserver | undefined;
  /** Stop requests (EMCO's …/stop), shared by the replicas. */
  stops: StopRequestStore;
  /** Lifetime asked for the bound tokens of token users' kubeconfigs (a new token at each download). */
  tokenSeconds: number;
  /** The clusters' last known health: an apply to a cluster found unreachable recently fails at once. */
  health?: { get(provider: string, cluster: string): Promise<ClusterHealth | undefined>; freshMs: number };
  /** Where the lifecycle learns of deleted logical clouds and is asked before a cluster leaves the registry. */
  events: Pick<EventBus, 'on' | 'objectTo'>;
  /** The logical cloud's cluster selection as last followed (status shows it; docs/cluster-selection.md). */
  selection?: { get(logicalCloudId: string): Promise<ClusterSelectionSummary | null> };
  /** The drift found on the logical cloud's clusters, newest first (status shows it). */
  drift?: { latest(logicalCloudId: string, limit?: number): Promise<DriftEvent[]> };
  /** The split of the logical cloud's overall quotas over its clusters (status shows it). */
  overallQuotas?: (logicalCloudId: string) => Promise<OverallQuotaStatus[]>;
  /** At a project caller's apply: why its overall quotas exceed the project policy as it is now (maxOverall), or undefined. */
  overallQuotaRefusal?: (project: string, logicalCloudId: string) => Promise<string | undefined>;
}
