/**
 * Requests to stop the operation under way on a logical cloud (EMCO's `…/stop`): one document
 * per logical cloud, inserted by whichever replica is asked, read by the replica working the
 * operation each time it renews its lease, removed when the operation ends. Insert-unique and
 * delete only: nothing here relies on MongoDB serializing updates of one document.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../db/mongo.js';

export class StopRequestStore {
  private readonly collection: Collection<{ _id: string; requestedAt: Date }>;

  constructor(db: Db) {
    this.collection = db.collection('stopRequests');
  }

  async init(): Promise<void> {
    // _id is the logical cloud's id: unique by construction.
  }

  async request(logicalCloudId: string): Promise<void> {
    await this.collection.insertOne({ _id: logicalCloudId, requestedAt: new Date() }).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
  }

  async requested(logicalCloudId: string): Promise<boolean> {
    return (await this.collection.findOne({ _id: logicalCloudId })) !== null;
  }

  async clear(logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: logicalCloudId });
  }
}
