/**
 * The lifecycle of each logical cloud, durable in MongoDB so that it survives a restart:
 * its state, the operation under way, per cluster what was done to which object, and
 * which clusters hold objects of it (so that a removed reference is cleaned up).
 */
import type { Collection, Db } from 'mongodb';
import type { ResourceStatus } from '../../controllers/cluster-context.js';
import type { RuleWarning } from '../../kubernetes/discovery.js';
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
    await this.collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
    this.events.changed(doc._id);
  }

  /** Sets the status of several clusters in one write (each replacing that cluster's previous one). */
  async setClusters(logicalCloudId: string, statuses: ClusterStatus[]): Promise<void> {
    const doc = await this.get(logicalCloudId);
    if (!doc) return;
    const replaced = new Set(statuses.map((s) => s.reference));
    const clusters = [...doc.clusters.filter((c) => !replaced.has(c.reference)), ...statuses];
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
