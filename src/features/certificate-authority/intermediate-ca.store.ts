/**
 * The intermediate CA of each logical cloud on each cluster (`caIntermediates`, one document
 * per logical cloud and cluster): its certificate, its private key sealed with the
 * SecretCipher (bound to the logical cloud and cluster), and a rotation request. Each document
 * is written by the one worker that works its cluster, under the logical cloud's lease.
 */
import type { Collection, Db } from 'mongodb';
import type { SecretCipher, StoredSecret } from '../../security/secret-cipher.js';

import type { ClusterKey } from '../../domain/mesh.js';

export type { ClusterKey };

interface IntermediateDocument {
  _id: string;
  logicalCloudId: string;
  provider: string;
  cluster: string;
  /** The cluster reference it was last issued or delivered for (information). */
  reference: string;
  certificate: string;
  privateKey: StoredSecret;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  /** Set by rotate-ca: the next apply issues a new intermediate. */
  rotationRequestedAt?: Date;
}

/** An intermediate as stored, without its key (safe to show). */
export interface IntermediateSummary extends ClusterKey {
  logicalCloudId: string;
  reference: string;
  certificate: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  issuedAt: Date;
  rotationRequestedAt?: Date;
}

/** An intermediate with its key opened: only for delivering it to its cluster. */
export interface IntermediateWithKey extends IntermediateSummary {
  privateKey: string;
}

const idOf = (logicalCloudId: string, key: ClusterKey) => `${logicalCloudId}/${key.provider}/${key.cluster}`;
const keyContext = (logicalCloudId: string, key: ClusterKey) =>
  `dcm-ca/intermediate/${idOf(logicalCloudId, key)}/private-key`;

function summary(doc: IntermediateDocument): IntermediateSummary {
  const { _id: _ignored, privateKey: _sealed, rotationRequestedAt, ...rest } = doc;
  return { ...rest, ...(rotationRequestedAt ? { rotationRequestedAt } : {}) };
}

export class IntermediateCaStore {
  private readonly collection: Collection<IntermediateDocument>;

  constructor(
    db: Db,
    private readonly cipher: SecretCipher,
  ) {
    this.collection = db.collection<IntermediateDocument>('caIntermediates');
  }

  async init(): Promise<void> {
    await this.collection.createIndex({ logicalCloudId: 1 }, { name: 'logical_cloud' });
  }

  async get(logicalCloudId: string, key: ClusterKey): Promise<IntermediateWithKey | null> {
    const doc = await this.collection.findOne({ _id: idOf(logicalCloudId, key) });
    if (!doc) return null;
    return { ...summary(doc), privateKey: this.cipher.open(doc.privateKey, keyContext(logicalCloudId, key)) };
  }

  async exists(logicalCloudId: string, key: ClusterKey): Promise<boolean> {
    return (await this.collection.countDocuments({ _id: idOf(logicalCloudId, key) })) > 0;
  }

  async list(logicalCloudId: string): Promise<IntermediateSummary[]> {
    const docs = await this.collection.find({ logicalCloudId }).toArray();
    return docs
      .map(summary)
      .sort((a, b) => a.reference.localeCompare(b.reference) || a.cluster.localeCompare(b.cluster));
  }

  /** Stores a (new) intermediate, replacing the cluster's previous one and any rotation request. */
  async put(intermediate: Omit<IntermediateWithKey, 'rotationRequestedAt'>): Promise<void> {
    const { privateKey, ...rest } = intermediate;
    const doc: IntermediateDocument = {
      _id: idOf(intermediate.logicalCloudId, intermediate),
      ...rest,
      privateKey: this.cipher.seal(privateKey, keyContext(intermediate.logicalCloudId, intermediate)),
    };
    await this.collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  /** Seals every intermediate key again under the current encryption key where another one (or none) sealed it. */
  async resealKeys(): Promise<number> {
    let resealed = 0;
    for (const doc of await this.collection
      .find({}, { projection: { privateKey: 1, logicalCloudId: 1, provider: 1, cluster: 1 } })
      .toArray()) {
      if (!this.cipher.isStale(doc.privateKey)) continue;
      const context = keyContext(doc.logicalCloudId, doc);
      const next = this.cipher.seal(this.cipher.open(doc.privateKey, context), context);
      resealed += (
        await this.collection.updateOne({ _id: doc._id, privateKey: doc.privateKey }, { $set: { privateKey: next } })
      ).modifiedCount;
    }
    return resealed;
  }

  /** Asks for new intermediates on the given clusters (all of the logical cloud's when none given); answers how many were marked. */
  async requestRotation(logicalCloudId: string, at: Date, clusters?: ClusterKey[]): Promise<number> {
    const filter = clusters ? { _id: { $in: clusters.map((c) => idOf(logicalCloudId, c)) } } : { logicalCloudId };
    return (await this.collection.updateMany(filter, { $set: { rotationRequestedAt: at } })).modifiedCount;
  }

  /** Withdraws the rotation requested at `at` (its apply could not start). */
  async cancelRotation(logicalCloudId: string, at: Date): Promise<void> {
    await this.collection.updateMany(
      { logicalCloudId, rotationRequestedAt: at },
      { $unset: { rotationRequestedAt: '' } },
    );
  }

  async delete(logicalCloudId: string, key: ClusterKey): Promise<void> {
    await this.collection.deleteOne({ _id: idOf(logicalCloudId, key) });
  }

  async deleteAll(logicalCloudId: string): Promise<void> {
    await this.collection.deleteMany({ logicalCloudId });
  }
}
