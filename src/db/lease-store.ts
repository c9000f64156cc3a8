/**
 * Leases in MongoDB: a replica claims a piece of work (a logical cloud's operation) for a
 * while, renews the claim while it works, and releases it when done. A replica that dies
 * stops renewing; once its lease has expired another replica may take it over.
 *
 * Claims rest on insert-unique semantics only (one document per lease, `_id` = what is
 * leased): two replicas inserting at once get one success and one duplicate-key error. An
 * expired lease is removed with a delete that matches it exactly (holder and expiry), so of
 * two replicas taking over the same expired lease only one removes it and only one inserts.
 * Nothing relies on a server serializing read-modify-write (FerretDB v1 does not).
 *
 * Expiry is judged with each replica's own clock: keep clock skew well under the TTL.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from './mongo.js';

export interface LeaseDocument {
  _id: string;
  holder: string;
  acquiredAt: Date;
  expiresAt: Date;
}

export class LeaseStore {
  private readonly collection: Collection<LeaseDocument>;

  constructor(
    db: Db,
    name = 'leases',
    private readonly now: () => number = Date.now,
  ) {
    this.collection = db.collection<LeaseDocument>(name);
  }

  async init(): Promise<void> {
    // _id is what is leased: unique by construction.
  }

  get(id: string): Promise<LeaseDocument | null> {
    return this.collection.findOne({ _id: id });
  }

  /** Claims the lease for `holder`: true if it now holds it (also when it already did). */
  async acquire(id: string, holder: string, ttlMs: number): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.insert(id, holder, ttlMs)) return true;
      const existing = await this.get(id);
      if (!existing) continue; // released meanwhile: try again
      if (existing.holder === holder) return this.renew(id, holder, ttlMs);
      if (existing.expiresAt.getTime() > this.now()) return false;
      // Expired: remove exactly that lease (a competing taker that removed it first makes this a no-op).
      await this.collection.deleteOne({ _id: id, holder: existing.holder, expiresAt: existing.expiresAt });
    }
    return false;
  }

  /** Extends the lease if `holder` still holds it: false when it was lost. */
  async renew(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: id, holder },
      { $set: { expiresAt: new Date(this.now() + ttlMs) } },
    );
    return result.matchedCount === 1;
  }

  /** Gives the lease up if `holder` holds it. */
  async release(id: string, holder: string): Promise<void> {
    await this.collection.deleteOne({ _id: id, holder });
  }

  private async insert(id: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.collection.insertOne({ _id: id, holder, acquiredAt: new Date(now), expiresAt: new Date(now + ttlMs) });
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
}
