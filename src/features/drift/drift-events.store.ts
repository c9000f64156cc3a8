/**
 * Drift events: one document per object found drifted, newest kept per logical cloud
 * (at most KEPT_PER_LOGICAL_CLOUD), shown in the logical cloud's status.
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { DriftFinding } from './drift-recorder.js';

/** restored: the DCM put the object back; reported: reconcile is paused; restore-failed: putting it back failed (the message says why). */
export type DriftAction = 'restored' | 'reported' | 'restore-failed';

export interface DriftEvent extends DriftFinding {
  _id: string;
  logicalCloudId: string;
  reference: string;
  provider: string;
  cluster: string;
  detectedAt: Date;
  action: DriftAction;
  message?: string;
}

export const KEPT_PER_LOGICAL_CLOUD = 50;

export class DriftEventStore {
  private readonly collection: Collection<DriftEvent>;

  constructor(db: Db) {
    this.collection = db.collection<DriftEvent>('driftEvents');
  }

  async init(): Promise<void> {
    await this.collection.createIndex({ logicalCloudId: 1, detectedAt: -1 }, { name: 'by_logical_cloud' });
  }

  async record(events: Omit<DriftEvent, '_id'>[]): Promise<void> {
    if (events.length === 0) return;
    await this.collection.insertMany(events.map((e) => ({ ...e, _id: randomUUID() })));
    for (const id of new Set(events.map((e) => e.logicalCloudId))) await this.prune(id);
  }

  /** The newest events of the logical cloud, newest first. */
  latest(logicalCloudId: string, limit = 20): Promise<DriftEvent[]> {
    return this.collection.find({ logicalCloudId }).sort({ detectedAt: -1 }).limit(limit).toArray();
  }

  count(logicalCloudId: string): Promise<number> {
    return this.collection.countDocuments({ logicalCloudId });
  }

  async deleteAll(logicalCloudId: string): Promise<void> {
    await this.collection.deleteMany({ logicalCloudId });
  }

  private async prune(logicalCloudId: string): Promise<void> {
    const old = await this.collection
      .find({ logicalCloudId }, { projection: { _id: 1 } })
      .sort({ detectedAt: -1 })
      .skip(KEPT_PER_LOGICAL_CLOUD)
      .toArray();
    if (old.length > 0) await this.collection.deleteMany({ _id: { $in: old.map((d) => d._id) } });
  }
}
