/**
 * Logical clouds, named within their project (`logicalClouds`); their children are keyed by the
 * logical cloud's id. Whether a logical cloud selects clusters by their labels is also stored at
 * top level (`selects`), so that the cluster selection's follower finds those few with one
 * equality the database pushes down, instead of reading every logical cloud.
 */
import type { Db } from 'mongodb';
import { deriveDataFields } from '../../db/migrations/promote-fields.js';
import { NamedRecordStore } from '../../db/named-record-store.js';
import type { LogicalCloudData, LogicalCloudRecord } from '../../domain/logical-cloud.js';

/** The top-level fields computed from the data (written with it, in the same document). */
export const LOGICAL_CLOUD_DERIVED = {
  selects: (data: Pick<LogicalCloudData, 'clusterSelector'>) => Boolean(data.clusterSelector),
};

export class LogicalCloudStore extends NamedRecordStore<LogicalCloudData> {
  constructor(db: Db) {
    super(db, 'logicalClouds', ['project'], { derived: LOGICAL_CLOUD_DERIVED });
  }

  override async init(): Promise<void> {
    await super.init();
    // Logical clouds stored before `selects` existed get it once (their selectors would be missed otherwise).
    await this.migrate(deriveDataFields('logicalClouds', LOGICAL_CLOUD_DERIVED));
    await this.ensureIndex('selects', { selects: 1 });
  }

  /** The logical clouds with a clusterSelector, in every project. */
  selecting(): Promise<LogicalCloudRecord[]> {
    return this.findWhere({}, { selects: true });
  }
}

export const createLogicalCloudStore = (db: Db): LogicalCloudStore => new LogicalCloudStore(db);
