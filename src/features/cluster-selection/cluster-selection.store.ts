/**
 * What the DCM keeps of each logical cloud's selection (`clusterSelections`, one document per
 * logical cloud, `_id` its id): the clusters in and out when it last changed, the cause, and
 * whether an automatic apply is still owed (set before the references change, cleared once the
 * apply was started, so that a replica that dies in between leaves it owed). Read and written
 * by `_id` only.
 */
import type { Collection, Db } from 'mongodb';
import type { ExcludedCluster, SelectedCluster } from './selection-plan.js';

export interface SelectionState {
  _id: string;
  selected: SelectedCluster[];
  excluded: ExcludedCluster[];
  /** When the set of selected clusters last changed. */
  changedAt: Date;
  /** What changed it: `cluster provider/cluster relabelled`, `project policy changed`, … */
  cause: string;
  /** An apply (or terminate) of the logical cloud is owed to follow the change. */
  applyOwed: boolean;
  /**
   * The follower terminated the logical cloud because its selection became empty: it is applied
   * again, by itself, once the selection has clusters again (a manual terminate never sets it).
   */
  emptied?: boolean;
}

export class ClusterSelectionStore {
  private readonly collection: Collection<SelectionState>;

  constructor(db: Db) {
    this.collection = db.collection('clusterSelections');
  }

  async init(): Promise<void> {
    // _id is the logical cloud's id: unique by construction.
  }

  get(logicalCloudId: string): Promise<SelectionState | null> {
    return this.collection.findOne({ _id: logicalCloudId });
  }

  /**
   * Every followed logical cloud's: with those that select, what the periodic check follows. Written
   * before any selected reference is made, so it also holds a logical cloud whose selector was
   * removed while selected references remain; forgotten once none remains.
   */
  all(): Promise<SelectionState[]> {
    return this.collection.find({}).toArray();
  }

  async put(state: SelectionState): Promise<void> {
    await this.collection.replaceOne({ _id: state._id }, state, { upsert: true });
  }

  /** Records that the owed apply was started (or is no longer owed). */
  async settle(logicalCloudId: string, emptied = false): Promise<void> {
    await this.collection.updateOne({ _id: logicalCloudId }, { $set: { applyOwed: false, emptied } });
  }

  /** The logical clouds that are owed an apply. */
  async owed(): Promise<string[]> {
    const docs = await this.collection.find({ applyOwed: true }, { projection: { _id: 1 } }).toArray();
    return docs.map((d) => d._id);
  }

  async forget(logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: logicalCloudId });
  }

  /** Forgets a logical cloud's state unless it changed since it was read (another replica followed a new selector) or an apply is owed. */
  async forgetUnchanged(read: Pick<SelectionState, '_id' | 'changedAt'>): Promise<void> {
    await this.collection.deleteOne({ _id: read._id, changedAt: read.changedAt, applyOwed: false });
  }
}
