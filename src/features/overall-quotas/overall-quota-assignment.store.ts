/**
 * What the rebalancer last knew and wrote of each overall quota on each cluster: one document per
 * (logical cloud, overall quota), `_id` `${logicalCloudId}/${quota}`, found by equality on the
 * top-level `logicalCloudId`. A cluster that cannot be reached keeps counting with what is here.
 */
import type { Collection, Db } from 'mongodb';
import type { KeyValue } from '../../db/named-record-store.js';

export interface ClusterAssignment {
  reference: string;
  provider: string;
  cluster: string;
  /** The `hard` last written to the cluster's budget quota (normalized keys). */
  assigned: KeyValue[];
  /** What the cluster may admit as far as known (max of its quota's spec, status and use): counted against the budget. */
  committed: KeyValue[];
  used: KeyValue[];
  reachable: boolean;
  /** When `reachable` was last true. */
  seenAt?: Date;
  message?: string;
}

export interface AssignmentDocument {
  _id: string;
  logicalCloudId: string;
  quota: string;
  project: string;
  logicalCloud: string;
  hard: KeyValue[];
  clusters: ClusterAssignment[];
  updatedAt: Date;
}

export class OverallQuotaAssignmentStore {
  private readonly collection: Collection<AssignmentDocument>;

  constructor(db: Db) {
    this.collection = db.collection<AssignmentDocument>('overallQuotaAssignments');
  }

  async init(): Promise<void> {
    await this.collection.createIndex({ logicalCloudId: 1 }, { name: 'logical_cloud' });
  }

  async forLogicalCloud(logicalCloudId: string): Promise<AssignmentDocument[]> {
    return this.collection.find({ logicalCloudId }).toArray();
  }

  async all(): Promise<AssignmentDocument[]> {
    return this.collection.find({}).toArray();
  }

  async put(doc: Omit<AssignmentDocument, '_id' | 'updatedAt'>): Promise<void> {
    const _id = `${doc.logicalCloudId}/${doc.quota}`;
    await this.collection.replaceOne({ _id }, { ...doc, updatedAt: new Date() }, { upsert: true });
  }

  async delete(logicalCloudId: string, quota: string): Promise<void> {
    await this.collection.deleteOne({ _id: `${logicalCloudId}/${quota}` });
  }

  async deleteAll(logicalCloudId: string): Promise<void> {
    await this.collection.deleteMany({ logicalCloudId });
  }
}
