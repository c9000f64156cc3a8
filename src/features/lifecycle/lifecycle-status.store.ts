/**
 * The lifecycle of each logical cloud, durable in MongoDB so that it survives a restart:
 * its state, the operation under way and which clusters hold objects of it (so that a removed
 * reference is cleaned up) in one document per logical cloud (collection `lifecycle`); per
 * cluster what was done to which object in one document per (logical cloud, cluster reference)
 * (collection `lifecycleClusters`), each written by a single upsert: clusters finishing at once
 * never write the same document, so no write can undo another's.
 *
 * Documents stored before per-cluster documents existed keep their clusters in a `clusters`
 * array of the logical cloud's document: read as they are (a per-cluster document of the same
 * reference wins), and replaced by per-cluster documents at the next `put`.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Collection, Db } from 'mongodb';
import type { ResourceStatus } from '../../controllers/cluster-context.js';
import type { RuleWarning } from '../../kubernetes/discovery.js';
import { LIMITS } from '../../validation/limits.js';
import { runMigration } from '../../db/migrations/migration-runner.js';
import { placedClusterKey, placedClustersMigration, placedClustersOf } from '../../db/migrations/placed-clusters.js';
import { StatusEvents } from './status-events.js';

export type LifecycleState =
  'Created' | 'Instantiating' | 'Instantiated' | 'InstantiateFailed' | 'Terminating' | 'Terminated' | 'TerminateFailed';

/** The design's words for the overall status (endpoint 15). */
export const STATUS_TEXT: Record<LifecycleState, string> = {
  Created: 'Not Applied',
  Instantiating: 'Creation in Progress',
  Instantiated: 'Created',
  InstantiateFailed: 'Creation Failed',
  Terminating: 'Termination in Progress',
  Terminated: 'Terminated',
  TerminateFailed: 'Termination Failed',
};

export type ClusterState =
  'Pending' | 'Applying' | 'Applied' | 'Failed' | 'Terminating' | 'Terminated' | 'TerminateFailed';

export interface ClusterPlacement {
  reference: string;
  provider: string;
  cluster: string;
}

export interface ClusterStatus extends ClusterPlacement {
  state: ClusterState;
  resources: ResourceStatus[];
  warnings: RuleWarning[];
  /** Warnings not kept (beyond LIMITS.statusWarnings); absent when none. */
  warningsOmitted?: number;
  /** Resource lines not kept (beyond LIMITS.statusResources); absent when none. */
  resourcesOmitted?: number;
}

const clip = (message: string): string =>
  message.length <= LIMITS.statusMessageLength ? message : `${message.slice(0, LIMITS.statusMessageLength - 1)}…`;

const isFailure = (r: ResourceStatus): boolean => r.status === 'Failed' || r.status === 'DeleteFailed';

/**
 * At most `max` resource lines, in their order, chosen so that what the status view derives from
 * them does not change: every failed line first (up to `max`), then the first line of each
 * category and state, then the others.
 */
function keptResources(resources: ResourceStatus[], max: number): ResourceStatus[] {
  if (resources.length <= max) return resources;
  const keep = new Set<number>();
  const take = (i: number) => {
    if (keep.size < max) keep.add(i);
  };
  resources.forEach((r, i) => isFailure(r) && take(i));
  const seen = new Set<string>();
  resources.forEach((r, i) => {
    const kind = `${r.category}/${r.status}`;
    if (!seen.has(kind)) {
      seen.add(kind);
      take(i);
    }
  });
  resources.forEach((_r, i) => take(i));
  return resources.filter((_r, i) => keep.has(i));
}

/**
 * What the store keeps of one cluster's status: the first LIMITS.statusWarnings warnings and
 * LIMITS.statusResources resource lines, each message clipped, and counts of what was left out.
 * However many rules, objects or messages an apply produced, the document stays far below
 * MongoDB's 16 MB. Idempotent: bounding a bounded status changes nothing.
 */
export function boundedClusterStatus(status: ClusterStatus): ClusterStatus {
  const { warningsOmitted: earlierWarnings = 0, resourcesOmitted: earlierResources = 0, ...rest } = status;
  let counted = 0;
  const listed: RuleWarning[] = [];
  for (const warning of status.warnings) {
    if (warning.omitted !== undefined) counted += warning.omitted;
    else listed.push(warning);
  }
  const warnings = listed.slice(0, LIMITS.statusWarnings).map((w) => ({ ...w, message: clip(w.message) }));
  const resources = keptResources(status.resources, LIMITS.statusResources).map((r) =>
    r.message === undefined ? r : { ...r, message: clip(r.message) },
  );
  const warningsOmitted = earlierWarnings + counted + listed.length - warnings.length;
  const resourcesOmitted = earlierResources + status.resources.length - resources.length;
  return {
    ...rest,
    resources,
    warnings,
    ...(warningsOmitted > 0 ? { warningsOmitted } : {}),
    ...(resourcesOmitted > 0 ? { resourcesOmitted } : {}),
  };
}

export interface LifecycleDocument {
  _id: string;
  project: string;
  logicalCloud: string;
  state: LifecycleState;
  operation: {
    kind: 'apply' | 'terminate';
    inProgress: boolean;
    requestedAt: Date;
    finishedAt?: Date;
    /** An apply that starts this new credential generation (a revocation); kept so that a resumed apply does the same. */
    credentialGeneration?: string;
    /** Why an operation broke off before it could record its outcome per cluster. */
    error?: string;
    /** Stopped on request (EMCO's …/stop) before it reached every cluster. */
    stopped?: boolean;
    /** A revocation that also removes the identities the tenant made in its namespace (see tenant-identities.ts). */
    removeTenantIdentities?: boolean;
  };
  /**
   * The last explicit apply (REST, gRPC, a revocation) was an admin's: the logical cloud is not
   * bounded by its project's policy. Automatic re-applies (certificate renewal, drift repair) keep
   * it as it is; absent (documents from before it was recorded) counts as false: bounded.
   */
  policyExempt?: boolean;
  /** Each cluster's status, sorted by reference (assembled from the per-cluster documents). */
  clusters: ClusterStatus[];
  /** Clusters that may hold objects of this logical cloud. */
  placements: ClusterPlacement[];
  /** The placements from before the apply under way; the others were added by it. */
  heldBefore?: ClusterPlacement[];
}

/** The logical cloud's own document; `clusters` only on documents stored before per-cluster documents. */
type OperationDocument = Omit<LifecycleDocument, 'clusters'> & {
  clusters?: ClusterStatus[];
  /** `provider/cluster` of each placement, where filters find them (src/db/migrations/placed-clusters.ts). */
  placedClusters?: string[];
};

/** One cluster's status: `_id` is `${logicalCloudId}/${reference}`. */
type ClusterDocument = ClusterStatus & { _id: string; logicalCloudId: string };

const clusterDocumentId = (logicalCloudId: string, reference: string) => `${logicalCloudId}/${reference}`;

const byReference = (a: ClusterStatus, b: ClusterStatus) => a.reference.localeCompare(b.reference);

export class LifecycleStatusStore {
  private readonly operations: Collection<OperationDocument>;
  private readonly clusters: Collection<ClusterDocument>;
  /** A nudge after every write, for watchers of a logical cloud's status. */
  readonly events = new StatusEvents();
  /** Documents read here whose every cluster came from its own document (not from an old-shape array). */
  private readonly perClusterDocuments = new WeakSet<LifecycleDocument>();

  constructor(private readonly db: Db) {
    this.operations = db.collection<OperationDocument>('lifecycle');
    this.clusters = db.collection<ClusterDocument>('lifecycleClusters');
  }

  async init(): Promise<void> {
    await this.operations.createIndex({ 'operation.inProgress': 1 }, { name: 'in_progress' });
    await this.clusters.createIndex({ logicalCloudId: 1 }, { name: 'logical_cloud' });
    await this.operations.createIndex({ placedClusters: 1 }, { name: 'placed_clusters' });
    await runMigration(this.db, placedClustersMigration('lifecycle'));
  }

  async get(logicalCloudId: string): Promise<LifecycleDocument | null> {
    const doc = await this.operations.findOne({ _id: logicalCloudId });
    return doc ? this.assemble(doc) : null;
  }

  /**
   * Writes the whole status: each cluster's document, then the logical cloud's (whose state
   * readers wait on, so that its clusters are there when they see it); clusters no longer
   * listed are removed. With `previous` (the status as this store just read it), the clusters
   * whose status did not change since are not written again (unless it was read from the old
   * shape, whose clusters have no documents of their own yet).
   */
  async put(doc: LifecycleDocument, previous?: LifecycleDocument): Promise<void> {
    const { clusters, ...operation } = doc;
    const read = previous && this.perClusterDocuments.has(previous) ? previous : undefined;
    const before = new Map((read?.clusters ?? []).map((c) => [c.reference, boundedClusterStatus(c)]));
    const changed = clusters.filter((c) => !isDeepStrictEqual(before.get(c.reference), boundedClusterStatus(c)));
    await this.upsertClusters(doc._id, changed);
    const listed = new Set(clusters.map((c) => c.reference));
    if (!read || read.clusters.some((c) => !listed.has(c.reference))) {
      // Found by the logical cloud (an equality, pushed down), removed one by one by _id.
      const stored = await this.clusters
        .find({ logicalCloudId: doc._id }, { projection: { _id: 1, reference: 1 } })
        .toArray();
      for (const gone of stored.filter((c) => !listed.has(c.reference)))
        await this.clusters.deleteOne({ _id: gone._id });
    }
    const placedClusters = placedClustersOf(operation.placements);
    await this.operations.replaceOne({ _id: doc._id }, { ...operation, placedClusters }, { upsert: true });
    this.events.changed(doc._id);
  }

  /** Sets the status of the clusters: each replaces that cluster's previous one, all in one bulk write. */
  async setClusters(logicalCloudId: string, statuses: ClusterStatus[]): Promise<void> {
    await this.upsertClusters(logicalCloudId, statuses);
    this.events.changed(logicalCloudId);
  }

  /** Sets the logical cloud's overall state (drift repair), in one conditional write: only a status that exists. */
  async setState(logicalCloudId: string, state: LifecycleState): Promise<void> {
    const { matchedCount } = await this.operations.updateOne({ _id: logicalCloudId }, { $set: { state } });
    if (matchedCount > 0) this.events.changed(logicalCloudId);
  }

  /** Names of the logical clouds that may still hold objects on the cluster. */
  async holdingCluster(provider: string, cluster: string): Promise<string[]> {
    const docs = await this.operations
      .find(
        { placedClusters: placedClusterKey(provider, cluster) },
        { projection: { project: 1, logicalCloud: 1, placements: 1 } },
      )
      .toArray();
    return docs
      .filter((d) => d.placements.some((p) => p.provider === provider && p.cluster === cluster))
      .map((d) => `${d.project}/${d.logicalCloud}`);
  }

  /** The ids of the logical clouds that may hold objects on the cluster. */
  async placedOn(provider: string, cluster: string): Promise<string[]> {
    const docs = await this.operations
      .find({ placedClusters: placedClusterKey(provider, cluster) }, { projection: { placements: 1 } })
      .toArray();
    return docs
      .filter((d) => d.placements.some((p) => p.provider === provider && p.cluster === cluster))
      .map((d) => d._id);
  }

  /** Each logical cloud's state by id, of those with a status document (one never applied has none). */
  async states(): Promise<Map<string, string>> {
    const docs = await this.operations.find({}, { projection: { _id: 1, state: 1 } }).toArray();
    return new Map(docs.map((d) => [String(d._id), d.state ?? 'Created']));
  }

  async inProgress(): Promise<LifecycleDocument[]> {
    const docs = await this.operations.find({ 'operation.inProgress': true }).toArray();
    return Promise.all(docs.map((doc) => this.assemble(doc)));
  }

  async delete(logicalCloudId: string): Promise<void> {
    await this.clusters.deleteMany({ logicalCloudId });
    await this.operations.deleteOne({ _id: logicalCloudId });
    this.events.changed(logicalCloudId);
  }

  /** One upsert per cluster document, sent as one command (each document is still written whole, by itself). */
  private async upsertClusters(logicalCloudId: string, statuses: ClusterStatus[]): Promise<void> {
    if (statuses.length === 0) return;
    const replace = (status: ClusterStatus) => ({
      filter: { _id: clusterDocumentId(logicalCloudId, status.reference) },
      replacement: { ...boundedClusterStatus(status), logicalCloudId },
      upsert: true,
    });
    if (statuses.length === 1) {
      const { filter, replacement } = replace(statuses[0]!);
      await this.clusters.replaceOne(filter, replacement, { upsert: true });
      return;
    }
    await this.clusters.bulkWrite(
      statuses.map((status) => ({ replaceOne: replace(status) })),
      { ordered: false },
    );
  }

  /** The logical cloud's document with its clusters: the per-cluster documents, over a stored array of the old shape. */
  private async assemble(doc: OperationDocument): Promise<LifecycleDocument> {
    const { clusters: stored = [], placedClusters: _keys, ...operation } = doc;
    const found = await this.clusters.find({ logicalCloudId: doc._id }).toArray();
    const clusters = new Map(stored.map((c) => [c.reference, c]));
    for (const { _id, logicalCloudId: _lc, ...status } of found) clusters.set(status.reference, status);
    const assembled = { ...operation, clusters: [...clusters.values()].sort(byReference) };
    if (stored.length === 0) this.perClusterDocuments.add(assembled);
    return assembled;
  }
}
