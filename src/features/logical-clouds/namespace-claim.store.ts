/**
 * Which logical cloud holds which namespace, DCM-wide: one document per namespace, claimed
 * by an insert that the unique `_id` makes exclusive (atomic on FerretDB too), so two
 * logical clouds of any projects never hold one namespace, also when created concurrently.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../db/mongo.js';

export interface NamespaceOwner {
  logicalCloudId: string;
  project: string;
  logicalCloud: string;
}

interface ClaimDocument extends NamespaceOwner {
  _id: string;
  claimedAt: Date;
}

export class NamespaceClaimStore {
  private readonly collection: Collection<ClaimDocument>;

  constructor(db: Db) {
    this.collection = db.collection<ClaimDocument>('namespaceClaims');
  }

  async init(): Promise<void> {
    // _id is the namespace: unique by construction.
  }

  /**
   * Claims the namespace for `owner`. Answers undefined when it is now (or already was) the
   * owner's, else the logical cloud that holds it. `stillHolds` is asked about a holder found
   * in the way: a claim whose logical cloud is gone or moved elsewhere (a crash between two
   * writes) is taken over.
   */
  async claim(
    namespace: string,
    owner: NamespaceOwner,
    stillHolds: (holder: NamespaceOwner & { claimedAt: Date }) => Promise<boolean>,
  ): Promise<NamespaceOwner | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.collection.insertOne({ _id: namespace, ...owner, claimedAt: new Date() });
        return undefined;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const holder = await this.collection.findOne({ _id: namespace });
      if (!holder) continue;
      if (holder.logicalCloudId === owner.logicalCloudId) return undefined;
      const { logicalCloudId, project, logicalCloud, claimedAt } = holder;
      if (await stillHolds({ logicalCloudId, project, logicalCloud, claimedAt }))
        return { logicalCloudId, project, logicalCloud };
      await this.collection.deleteOne({ _id: namespace, logicalCloudId });
    }
    const holder = await this.collection.findOne({ _id: namespace });
    return holder
      ? { logicalCloudId: holder.logicalCloudId, project: holder.project, logicalCloud: holder.logicalCloud }
      : undefined;
  }

  /** Runs `claimAll` once per database (the claims of records stored before claims existed). */
  async backfillOnce(claimAll: () => Promise<void>): Promise<void> {
    const done = this.collection.db.collection<{ _id: string; at: Date }>('migrations');
    if (await done.findOne({ _id: 'namespace-claims' })) return;
    await claimAll();
    await done.insertOne({ _id: 'namespace-claims', at: new Date() }).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
  }

  /** Gives the namespace back, if this logical cloud holds it. */
  async release(namespace: string, logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: namespace, logicalCloudId });
  }
}
