/**
 * The tenant's credentials of each logical cloud: one private key (generated once, never
 * per cluster) and the certificate each cluster issued for it.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '../../db/mongo.js';

export interface IssuedCertificate {
  reference: string;
  certificate: string;
  notAfter: Date;
  signedBy: 'cluster' | 'dcm-with-cluster-ca';
}

interface CredentialsDocument {
  _id: string;
  privateKey: string;
  keyBits: number;
  certificates: IssuedCertificate[];
}

export class CredentialsStore {
  private readonly collection: Collection<CredentialsDocument>;

  constructor(db: Db) {
    this.collection = db.collection<CredentialsDocument>('userCredentials');
  }

  async init(): Promise<void> {
    // _id is the logical cloud's id: unique by construction.
  }

  get(logicalCloudId: string): Promise<CredentialsDocument | null> {
    return this.collection.findOne({ _id: logicalCloudId });
  }

  /** The logical cloud's key: the stored one, or `generate()`'s, stored by whoever inserts first. */
  async ensureKey(logicalCloudId: string, keyBits: number, generate: () => Promise<string>): Promise<string> {
    const existing = await this.get(logicalCloudId);
    if (existing) return existing.privateKey;
    const privateKey = await generate();
    try {
      await this.collection.insertOne({ _id: logicalCloudId, privateKey, keyBits, certificates: [] });
      return privateKey;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return (await this.get(logicalCloudId))!.privateKey;
    }
  }

  async putCertificate(logicalCloudId: string, issued: IssuedCertificate): Promise<void> {
    await this.collection.updateOne({ _id: logicalCloudId }, { $pull: { certificates: { reference: issued.reference } } });
    await this.collection.updateOne({ _id: logicalCloudId }, { $push: { certificates: issued } });
  }

  async removeCertificate(logicalCloudId: string, reference: string): Promise<void> {
    await this.collection.updateOne({ _id: logicalCloudId }, { $pull: { certificates: { reference } } });
  }

  async delete(logicalCloudId: string): Promise<void> {
    await this.collection.deleteOne({ _id: logicalCloudId });
  }
}
