/**
 * The lifecycle of each logical cloud, durable in MongoDB so that it survives a restart:
 * its state, the operation under way, per cluster what was done to which object, and
 * which clusters hold objects of it (so that a removed reference is cleaned up).
 */
import type { Collection, Db } from 'mongodb';
import type { ResourceStatus } from '../../controllers/cluster-context.js';
import type { RuleWarning } from '../../kubernetes/discovery.js';
import { LIMITS } from '../../validation/limits.js';
import { StatusEvents } from './status-events.js';

export type LifecycleState =
  | 'Created'
  | 'Instantiating'
  | 'Instantiated'
  | 'InstantiateFailed'
  | 'Terminating'
  | 'Terminated'
  | 'TerminateFailed';

export type ClusterState = 'Pending' | 'Applying' | 'Applied' | 'Failed' | 'Terminating' | 'Terminated' | 'TerminateFailed';

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
  };
  clusters: ClusterStatus[];
  /** Clusters that may hold objects of this logical cloud. */
  placements: ClusterPlacement[];
  /** The placements from before the apply under way; the others were added by it. */
  heldBefore?: ClusterPlacement[];
}

export class LifecycleStatusStore {
  private readonly collection: Collection<LifecycleDocument>;
  /** A nudge after every write, for watchers of a logical cloud's status. */
  readonly events = new StatusEvents();

  constructor(db: Db) {
    this.collection = db.collection<LifecycleDocument>('lifecycle');
  }

  async init(): Promise<void> {
    await this.collection.createIndex({ 'operation.inProgress': 1 }, { name: 'in_progress' });
  }

  get(logicalCloudId: string): Promise<LifecycleDocument | null> {
    return this.collection.findOne({ _id: logicalCloudId });
  }

  async put(doc: LifecycleDocument): Promise<void> {
    await this.collection.replaceOne({ _id: doc._id }, { ...doc, clusters: doc.clusters.map(boundedClusterStatus) }, { upsert: true });
    this.events.changed(doc._id);
  }

  /** Sets the status of several clusters in one write (each replacing that cluster's previous one). */
  async setClusters(logicalCloudId: string, statuses: ClusterStatus[]): Promise<void> {
    const doc = await this.get(logicalCloudId);
    if (!doc) return;
    const replaced = new Set(statuses.map((s) => s.reference));
    const clusters = [...doc.clusters.filter((c) => !replaced.has(c.reference)), ...statuses.map(boundedClusterStatus)];
    clusters.sort((a, b) => a.reference.localeCompare(b.reference));
    await this.collection.updateOne({ _id: logicalCloudId }, { $set: { clusters } });
    this.events.changed(logicalCloudId);
  }

  /** Names of the logical clouds that may still hold objects on the cluster. */
  async holdingCluster(provider: string, cluster: string): Promise<string[]> {
    // Narrowed by the server, matched exactly here (FerretDB v1 has no $elemMatch).
    const docs = await this.collection.find({ 'placements.cluster': cluster }, { projection: { project: 1, logicalCloud: 1, placements: 1 } }).toArray();
    return docs.filter((d) => d.placements.some((p) => p.provider === provider && p.cluster === cluster)).map((d) => `${d.project}/${d.logicalCloud}`);
  }

  inProgress(): Promise<LifecycleDocument[]> {
    return this.collection.find({ 'operation.inProgress': true }).toArray();
  }

  async delete(logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: logicalCloudId });
    this.events.changed(logicalCloudId);
  }
}
