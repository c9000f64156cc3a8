/**
 * What one feature tells the others (cross-feature effects as events, not closures in the
 * wiring): the payload of each event, and the questions asked before a change that another
 * feature may object to. The bus that carries them is src/jobs/event-bus.ts.
 */
import type { LogicalCloudData } from './logical-cloud.js';

export interface DomainEvents {
  /** A logical cloud and its children were deleted: what other features keep of it goes too. */
  logicalCloudDeleted: { logicalCloudId: string; project: string; name: string };
  /** A logical cloud was created (after the write); `selects`: it has a clusterSelector. */
  logicalCloudCreated: { logicalCloudId: string; project: string; name: string; selects: boolean };
  /** A logical cloud's record was replaced (after the write). */
  logicalCloudUpdated: { logicalCloudId: string; before: LogicalCloudData; after: LogicalCloudData };
  /** A cluster was added to the registry. */
  clusterRegistered: { provider: string; cluster: string; labels: Record<string, string> };
  /** A registered cluster's record was replaced (labels, description, kubeconfig…), after the write. */
  clusterUpdated: {
    provider: string;
    cluster: string;
    before: Record<string, string>;
    after: Record<string, string>;
  };
  /** A cluster was removed from the registry. */
  clusterUnregistered: { provider: string; cluster: string };
}

/** Questions asked before a change: a subscriber answers why the change may not happen (undefined: no objection). */
export interface DomainQuestions {
  /** May the cluster be removed from the registry? (e.g. a logical cloud still references it or holds objects on it) */
  clusterUnregistering: { provider: string; cluster: string };
}
