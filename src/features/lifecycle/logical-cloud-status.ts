/**
 * What the status of a logical cloud shows: its lifecycle document, its credentials, the last
 * known health of its clusters and its newest drift events, each read from where it is kept.
 */
import type { LogicalCloudRecord } from '../../domain/logical-cloud.js';
import type { OverallQuotaStatus } from '../../domain/overall-quota.js';
import type { ClusterHealth } from '../cluster-registry/cluster-health.store.js';
import type { DriftEvent } from '../drift/drift-events.store.js';
import type { CredentialsStore } from './credentials.store.js';
import type { ClusterSelectionSummary, LifecycleOptions } from './lifecycle-options.js';
import type { LifecycleDocument, LifecycleStatusStore } from './lifecycle-status.store.js';

/** Drift events a status shows (the newest). */
const DRIFT_EVENTS_SHOWN = 20;

export interface LogicalCloudStatus {
  logicalCloud: LogicalCloudRecord;
  status: LifecycleDocument | null;
  /** The tenant's credential generation and the validity of each cluster's certificate (no key, no certificate text). */
  credentials: Awaited<ReturnType<CredentialsStore['summary']>>;
  /** The last known health of the logical cloud's clusters, by `provider/cluster`. */
  health: Map<string, ClusterHealth>;
  /** The newest drift events of the logical cloud (what changed on which cluster, and what the DCM did). */
  drift: DriftEvent[];
  /** The cluster selection as last followed (null: the logical cloud selects no clusters by label). */
  selection?: ClusterSelectionSummary | null;
  /** Each overall quota's split over the clusters (absent: none, or not reported). */
  overallQuotas?: OverallQuotaStatus[];
}

/** Reads the status of the logical cloud: `options` gives the clusters' health and the drift, when known. */
export async function readLogicalCloudStatus(
  lc: LogicalCloudRecord,
  statusStore: Pick<LifecycleStatusStore, 'get'>,
  credentialsStore: Pick<CredentialsStore, 'summary'>,
  options: Pick<LifecycleOptions, 'health' | 'drift' | 'selection' | 'overallQuotas'>,
): Promise<LogicalCloudStatus> {
  const [status, credentials, drift, selection, overallQuotas] = await Promise.all([
    statusStore.get(lc.id),
    credentialsStore.summary(lc.id),
    options.drift?.latest(lc.id, DRIFT_EVENTS_SHOWN) ?? Promise.resolve([]),
    lc.data.clusterSelector ? (options.selection?.get(lc.id) ?? Promise.resolve(null)) : Promise.resolve(null),
    options.overallQuotas?.(lc.id) ?? Promise.resolve([]),
  ]);
  const health = new Map<string, ClusterHealth>();
  for (const c of status?.clusters ?? []) {
    const known = await options.health?.get(c.provider, c.cluster);
    if (known) health.set(`${c.provider}/${c.cluster}`, known);
  }
  return { logicalCloud: lc, status, credentials, health, drift, selection, overallQuotas };
}
